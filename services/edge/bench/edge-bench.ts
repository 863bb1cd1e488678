/**
 * `make bench-edge`: 10,000 idle WebSocket connections to one edge (load generators in
 * separate processes), edge memory per connection; then fan-out of one room to all of
 * them at constant publish rates, delivered/s and p50/p99 delivery latency, edge CPU
 * per delivery. The same run measures a raw uWS.js topic server as the baseline and
 * prints ratios. Loopback only; bounded in count and time.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NatsServer, mintToken, uniquePrefix, waitFor } from '@herald/testkit';
import { startEdgeProcess } from '../test/cluster.js';
import { TestSource } from '../test/harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const N = Number(process.env.BENCH_CONNECTIONS ?? 10_000);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 4);
const RATES = (process.env.BENCH_RATES ?? '1,5').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const PAYLOAD = { order: 'A-1042', status: 'shipped', carrier: 'DHL', eta: '2026-12-01' };

interface Proc {
  rssBytes(): number;
  cpuSeconds(): number;
}

function procStats(pid: number): Proc {
  return {
    rssBytes: () => {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return Number(m?.[1] ?? 0) * 1024;
    },
    cpuSeconds: () => {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, clock ticks
    },
  };
}

function rpc(child: ChildProcess, msg: object, reply: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const on = (m: Record<string, unknown>) => {
      if (m.cmd === reply) {
        child.off('message', on);
        resolve(m);
      }
    };
    child.on('message', on);
    child.send(msg);
  });
}

function percentile(hist: number[], p: number): number {
  const total = hist.reduce((a, b) => a + b, 0);
  if (total === 0) return NaN;
  let acc = 0;
  for (let i = 0; i < hist.length; i++) {
    acc += hist[i]!;
    if (acc >= total * p) return (i + 0.5) * 0.1; // ms
  }
  return NaN;
}

interface Result {
  name: string;
  conns: number;
  rssPerConn: number;
  rates: Array<{ rate: number; expected: number; delivered: number; perSec: number; p50: number; p99: number; max: number; cpuUsPerDelivery: number }>;
}

async function runClients(url: string, auth: boolean): Promise<ChildProcess[]> {
  const workers: ChildProcess[] = [];
  const per = Math.ceil(N / WORKERS);
  const readies: Array<Promise<Record<string, unknown>>> = [];
  for (let w = 0; w < WORKERS; w++) {
    const child = fork(join(here, 'loadgen.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    workers.push(child);
    const tokens: string[] = [];
    for (let i = w * per; i < Math.min(N, (w + 1) * per); i++) {
      tokens.push(auth ? await mintToken({ sub: `u${i}`, tid: 'bench', roles: ['admin'] }, { expiresIn: 3600 }) : '');
    }
    readies.push(rpc(child, { cmd: 'start', start: { url, tokens, auth, localAddress: `127.0.0.${w + 1}` } }, 'ready'));
  }
  const ready = await Promise.all(readies);
  const open = ready.reduce((a, r) => a + (r.open as number), 0);
  const failed = ready.reduce((a, r) => a + (r.failed as number), 0);
  log(`  ${open} connections open, ${failed} failed`);
  if (open < N) throw new Error(`only ${open}/${N} connections opened`);
  return workers;
}

async function collect(workers: ChildProcess[]): Promise<{ received: number; hist: number[] }> {
  const reports = await Promise.all(workers.map((w) => rpc(w, { cmd: 'report' }, 'report')));
  const hist = new Array<number>((reports[0]!.hist as number[]).length).fill(0);
  let received = 0;
  for (const r of reports) {
    received += r.received as number;
    (r.hist as number[]).forEach((v, i) => (hist[i]! += v));
  }
  return { received, hist };
}

async function fanout(name: string, workers: ChildProcess[], server: Proc, publish: (body: Record<string, unknown>) => Promise<void>): Promise<Result['rates']> {
  const out: Result['rates'] = [];
  for (const rate of RATES) {
    await Promise.all(workers.map((w) => rpc(w, { cmd: 'reset' }, 'reset-done')));
    const cpu0 = server.cpuSeconds();
    const t0 = Date.now();
    const total = rate * SECONDS;
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await publish({ i, ...PAYLOAD });
    }
    const expected = total * N;
    const settle = Date.now();
    let got = { received: 0, hist: [] as number[] };
    while (Date.now() - settle < 15_000) {
      got = await collect(workers);
      if (got.received >= expected) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const elapsed = (Date.now() - t0) / 1000;
    const cpu = server.cpuSeconds() - cpu0;
    const r = {
      rate,
      expected,
      delivered: got.received,
      perSec: Math.round(got.received / Math.max(SECONDS, elapsed - 0.25)),
      p50: percentile(got.hist, 0.5),
      p99: percentile(got.hist, 0.99),
      max: percentile(got.hist, 1),
      cpuUsPerDelivery: (cpu * 1e6) / Math.max(1, got.received),
    };
    log(`  ${name} ${rate} msg/s → ${r.delivered}/${expected} delivered (${r.perSec}/s), p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(1)} ms, server CPU ${r.cpuUsPerDelivery.toFixed(2)} µs/delivery`);
    out.push(r);
  }
  return out;
}

function log(s: string): void {
  process.stdout.write(`${s}\n`);
}

async function settleRss(p: Proc): Promise<number> {
  // Idle memory after connections settle: wait for RSS to stop moving.
  let last = p.rssBytes();
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const now = p.rssBytes();
    if (Math.abs(now - last) < 256 * 1024) return now;
    last = now;
  }
  return last;
}

async function benchHerald(): Promise<Result> {
  log(`Herald edge: ${N} connections from ${WORKERS} processes`);
  const nats = await NatsServer.start();
  const prefix = uniquePrefix();
  const source = await TestSource.create(nats, prefix);
  const e = await startEdgeProcess(nats, prefix, {
    HERALD_CONNECT_RATE_PER_IP: '100000',
    HERALD_CONNECT_BURST_PER_IP: '100000',
    HERALD_MAX_CONNECTIONS: '19500',
  });
  const edge = e.p;
  try {
    await waitFor(async () => (await fetch(`${e.internalUrl}/readyz`).catch(() => undefined))?.ok, { timeoutMs: 30_000, what: 'edge ready' });
    const stats = procStats(edge.proc.pid!);
    const rss0 = await settleRss(stats);
    const workers = await runClients(e.wsUrl, true);
    const rss1 = await settleRss(stats);
    const rssPerConn = (rss1 - rss0) / N;
    log(`  edge RSS ${(rss0 / 2 ** 20).toFixed(1)} MiB → ${(rss1 / 2 ** 20).toFixed(1)} MiB: ${(rssPerConn / 1024).toFixed(2)} KiB per idle connection`);
    const metrics = await (await fetch(`${e.internalUrl}/metrics`)).text();
    const heap = Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(metrics)?.[1] ?? NaN);
    log(`  edge V8 heap used ${(heap / 2 ** 20).toFixed(1)} MiB (${(heap / N / 1024).toFixed(2)} KiB per connection, including the runtime)`);
    const rates = await fanout('herald', workers, stats, async (data) => {
      await source.publish('bench', { kind: 'tenant' }, data, 'bench.tick');
    });
    workers.forEach((w) => w.send({ cmd: 'stop' }));
    return { name: 'herald', conns: N, rssPerConn, rates };
  } finally {
    await edge.stop('SIGKILL');
    await source.close();
    await nats.dispose();
  }
}

async function benchRaw(): Promise<Result> {
  log(`raw uWS.js topics (baseline): ${N} connections`);
  const server = fork(join(here, 'raw-uws.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const { port } = (await new Promise((r) => server.once('message', r))) as { port: number };
    const stats = procStats(server.pid!);
    const rss0 = await settleRss(stats);
    const workers = await runClients(`ws://127.0.0.1:${port}/ws`, false);
    const rss1 = await settleRss(stats);
    const rssPerConn = (rss1 - rss0) / N;
    log(`  raw RSS ${(rss0 / 2 ** 20).toFixed(1)} MiB → ${(rss1 / 2 ** 20).toFixed(1)} MiB: ${(rssPerConn / 1024).toFixed(2)} KiB per idle connection`);
    let seq = 0;
    const rates = await fanout('raw', workers, stats, async (data) => {
      const body = JSON.stringify({ type: 'notification', id: `n${++seq}`, room: 'tenant', event: 'bench.tick', data, ts: Date.now(), seq });
      server.send({ cmd: 'publish', body });
    });
    workers.forEach((w) => w.send({ cmd: 'stop' }));
    return { name: 'raw', conns: N, rssPerConn, rates };
  } finally {
    server.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const herald = await benchHerald();
  const raw = await benchRaw();
  log('\nsummary (Herald edge vs raw uWS.js topics, same run)');
  log(`  memory per idle connection: ${(herald.rssPerConn / 1024).toFixed(2)} KiB vs ${(raw.rssPerConn / 1024).toFixed(2)} KiB (×${(herald.rssPerConn / raw.rssPerConn).toFixed(2)}); target ≤ 2 KiB`);
  for (let i = 0; i < herald.rates.length; i++) {
    const h = herald.rates[i]!;
    const r = raw.rates[i]!;
    log(
      `  ${h.rate} msg/s to ${N}: delivered ${h.perSec}/s vs ${r.perSec}/s; p50 ${h.p50.toFixed(1)} vs ${r.p50.toFixed(1)} ms; p99 ${h.p99.toFixed(1)} vs ${r.p99.toFixed(1)} ms (target ≤ 25); CPU/delivery ${h.cpuUsPerDelivery.toFixed(2)} vs ${r.cpuUsPerDelivery.toFixed(2)} µs (×${(h.cpuUsPerDelivery / r.cpuUsPerDelivery).toFixed(2)}; target ≤ 1.25); lost ${h.expected - h.delivered}`,
    );
  }
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
