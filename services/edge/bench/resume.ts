/**
 * Resume benchmark (a script, not a test): `make bench-resume`.
 *
 *  1. Time to resume 1,000 missed notifications (one WebSocket client, cursor 1,000 behind).
 *  2. Reconnect storm: BENCH_STORM_CLIENTS (10,000) clients, spread over 2 edge processes and
 *     BENCH_WORKERS client processes, drop their sockets, miss one notification each, then
 *     all reconnect at once with their cursor. Measured: time until every one of them is
 *     live again (has its missed notification), and the live-delivery latency of
 *     BENCH_OTHERS other clients receiving a steady stream meanwhile (p50/p99).
 *
 * Real nats-server (JetStream, file store), real edge processes, real sockets.
 * Prints one JSON object; writes it to bench-results/resume.json too.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { roomSubject, spaceWildcard, type StoredNotification } from '@herald/protocol';
import { NatsServer, REPO_ROOT, TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET, freePort, mintToken, uniquePrefix, waitFor } from '@herald/testkit';

const env = process.env;
const STORM = Number(env.BENCH_STORM_CLIENTS ?? 10_000);
const WORKERS = Number(env.BENCH_WORKERS ?? 4);
const OTHERS = Number(env.BENCH_OTHERS ?? 100);
const OTHER_RATE = Number(env.BENCH_OTHER_RATE ?? 200);
const MISSED = Number(env.BENCH_MISSED ?? 1_000);
/** BENCH_STORM_RESUME=0: the same storm without cursors (plain reconnects), to separate the cost of resume from that of reconnecting. */
const STORM_RESUME = env.BENCH_STORM_RESUME !== '0';

/**
 * Open a WebSocket, authenticate (optionally resuming) and resolve at `welcome`. A refused
 * or stuck attempt (rate limit, queue full, lost handshake) is retried with jitter, as
 * the SDK would.
 */
function openClient(url: string, token: string, resume: () => number | undefined, onNotification: (m: { seq: number; ts: number }) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const attempt = (tries: number) => {
      const ws = new WebSocket(url);
      let welcomed = false;
      let retried = false;
      const retry = () => {
        if (welcomed || retried) return;
        retried = true;
        clearTimeout(timer);
        ws.terminate();
        if (tries < 30) setTimeout(() => attempt(tries + 1), 200 + Math.random() * 800);
        else reject(new Error(`${url}: gave up`));
      };
      const timer = setTimeout(retry, 15_000);
      ws.on('open', () => {
        const r = resume();
        ws.send(JSON.stringify(r === undefined ? { type: 'auth', token } : { type: 'auth', token, resume: r }));
      });
      ws.on('message', (d) => {
        const msg = JSON.parse(d.toString()) as { type: string; seq: number; ts: number };
        if (msg.type === 'welcome' && !welcomed) {
          welcomed = true;
          clearTimeout(timer);
          resolve(ws);
        } else if (msg.type === 'notification') onNotification(msg);
      });
      ws.on('error', () => retry());
      ws.on('close', () => retry());
    };
    attempt(0);
  });
}

// ---------------------------------------------------------------- worker side
interface Cmd {
  cmd: 'connect' | 'drop' | 'resume' | 'exit';
  urls?: string[];
  from?: number;
  count?: number;
  prefix?: string;
}

async function worker(): Promise<void> {
  const clients: Array<{ sub: string; token: string; url: string; last: number; ws?: WebSocket }> = [];
  const send = (m: unknown) => process.send!(m);
  process.on('message', (m: Cmd) => {
    void (async () => {
      if (m.cmd === 'connect') {
        for (let i = 0; i < m.count!; i++) {
          const n = m.from! + i;
          clients.push({ sub: `s${n}`, token: await mintToken({ sub: `s${n}`, tid: 'acme' }), url: m.urls![n % m.urls!.length]!, last: 0 });
        }
        // Connect in waves of 500 so the set-up itself is not a storm.
        for (let i = 0; i < clients.length; i += 500) await Promise.all(clients.slice(i, i + 500).map((c) => open(c, undefined)));
        send({ ok: 'connect' });
      } else if (m.cmd === 'drop') {
        for (const c of clients) c.ws?.terminate();
        await waitFor(() => clients.every((c) => c.ws === undefined || c.ws.readyState === WebSocket.CLOSED), { timeoutMs: 30_000 });
        send({ ok: 'drop' });
      } else if (m.cmd === 'resume') {
        const t0 = Date.now();
        const cursors = clients.map((c) => c.last);
        const caughtUp: number[] = [];
        await Promise.all(
          clients.map(async (c, i) => {
            await open(c, STORM_RESUME ? cursors[i] : undefined);
            if (STORM_RESUME) await waitFor(() => c.last > cursors[i]!, { timeoutMs: 120_000, intervalMs: 50, what: `${c.sub} caught up` });
            caughtUp.push(Date.now() - t0);
          }),
        );
        caughtUp.sort((a, b) => a - b);
        send({ ok: 'resume', t0, lastMs: caughtUp.at(-1), p50: caughtUp[Math.floor(caughtUp.length / 2)] });
      } else if (m.cmd === 'exit') {
        for (const c of clients) c.ws?.terminate();
        process.exit(0);
      }
    })().catch((err: unknown) => send({ error: String(err) }));
  });

  async function open(c: (typeof clients)[number], resume: number | undefined): Promise<void> {
    c.ws = await openClient(c.url, c.token, () => resume, (m) => {
      if (m.seq > c.last) c.last = m.seq;
    });
  }
}

// ---------------------------------------------------------------- main side
function body(sub: string, i: number): string {
  const n: StoredNotification = { type: 'notification', id: `b${i}`, room: `user:${sub}`, event: 'bench.event', data: { i }, ts: Date.now() };
  return JSON.stringify(n);
}

async function publishMany(nc: NatsConnection, prefix: string, subs: string[]): Promise<void> {
  const js = jetstream(nc);
  for (let i = 0; i < subs.length; i += 500) {
    await Promise.all(subs.slice(i, i + 500).map((s, j) => js.publish(roomSubject(prefix, 'n', 'acme', { kind: 'user', id: s }), body(s, i + j))));
  }
}

/** Like testkit's ServiceProcess, with extra node flags (BENCH_PROFILE=<dir>: CPU profiles, written when the edge exits on SIGTERM). */
class EdgeProc {
  readonly proc: ChildProcess;
  private readonly exited: Promise<void>;
  constructor(entry: string, envs: Record<string, string>, args: string[], nodeFlags: string[]) {
    this.proc = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', join(REPO_ROOT, entry), ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'test', ...envs },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.exited = new Promise((r) => this.proc.once('exit', () => r()));
  }
  async stop(signal: NodeJS.Signals): Promise<void> {
    this.proc.kill(signal);
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 20_000);
    await this.exited;
    clearTimeout(t);
  }
}

async function startEdge(nats: NatsServer, prefix: string): Promise<{ p: EdgeProc; wsUrl: string; internalUrl: string }> {
  const port = await freePort();
  const internal = await freePort();
  const p = new EdgeProc('services/edge/src/main.ts', {
    HERALD_NATS_URL: nats.url,
    HERALD_SUBJECT_PREFIX: prefix,
    HERALD_STREAM_NAME: `S_${prefix}`,
    HERALD_JWT_SECRET: TEST_SECRET,
    HERALD_JWT_ISSUER: TEST_ISSUER,
    HERALD_JWT_AUDIENCE: TEST_AUDIENCE,
    HERALD_HOST: '127.0.0.1',
    HERALD_PORT: String(port),
    HERALD_INTERNAL_PORT: String(internal),
    HERALD_CONNECT_RATE_PER_IP: '1000000',
    HERALD_CONNECT_BURST_PER_IP: '1000000',
    HERALD_MAX_CONNECTIONS: '19000',
    HERALD_UNSUBSCRIBE_DELAY_MS: '5000',
    HERALD_LOG_LEVEL: 'warn',
    ...(env.BENCH_RESUME_CONCURRENCY ? { HERALD_RESUME_CONCURRENCY: env.BENCH_RESUME_CONCURRENCY } : {}),
    ...(env.BENCH_AUTH_CONCURRENCY ? { HERALD_AUTH_CONCURRENCY: env.BENCH_AUTH_CONCURRENCY } : {}),
    ...(env.BENCH_PROFILE ? { HERALD_DRAIN_DELAY_S: '0', HERALD_DRAIN_WINDOW_S: '0' } : {}),
  }, [], env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${env.BENCH_PROFILE}`] : []);
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/nope`).catch(() => undefined)) !== undefined, { timeoutMs: 30_000 });
  return { p, wsUrl: `ws://127.0.0.1:${port}/ws`, internalUrl: `http://127.0.0.1:${internal}` };
}

/** Cumulative buckets of herald_edge_delivery_latency_seconds, summed over edges. */
async function latencyBuckets(urls: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const u of urls) {
    const text = await (await fetch(`${u}/metrics`)).text();
    for (const m of text.matchAll(/^herald_edge_delivery_latency_seconds_bucket\{le="([^"]+)"\} (\d+)/gm)) out.set(m[1]!, (out.get(m[1]!) ?? 0) + Number(m[2]));
  }
  return out;
}

/** The bucket bound under which `q` of the observations between two snapshots fall (the edge's own view). */
function histogramQuantile(before: Map<string, number>, after: Map<string, number>, q: number): string {
  const les = [...after.keys()].sort((a, b) => (a === '+Inf' ? 1 : b === '+Inf' ? -1 : Number(a) - Number(b)));
  const total = (after.get('+Inf') ?? 0) - (before.get('+Inf') ?? 0);
  for (const le of les) if ((after.get(le) ?? 0) - (before.get(le) ?? 0) >= q * total) return `<= ${le} s (n=${total})`;
  return 'n/a';
}

function pct(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]! : Number.NaN;
}

async function main(): Promise<void> {
  const nats = await NatsServer.start({ jetstream: true });
  const prefix = uniquePrefix();
  const nc = await connect({ servers: nats.url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: `S_${prefix}`,
    subjects: [spaceWildcard(prefix, 'n')],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: 3600 * 1e9,
    republish: { src: spaceWildcard(prefix, 'n'), dest: spaceWildcard(prefix, 'live') },
    allow_direct: true,
  });
  const edges = await Promise.all([startEdge(nats, prefix), startEdge(nats, prefix)]);
  const urls = edges.map((e) => e.wsUrl);
  const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, storm_clients: STORM, workers: WORKERS };
  const workers: ChildProcess[] = [];
  try {
    // 1. Resume 1,000 missed notifications.
    const single: number[] = [];
    for (let run = 0; run < 5; run++) {
      const sub = `one${run}`;
      const token = await mintToken({ sub, tid: 'acme' });
      const first = await jetstream(nc).publish(roomSubject(prefix, 'n', 'acme', { kind: 'user', id: sub }), body(sub, -1));
      await publishMany(nc, prefix, Array.from({ length: MISSED }, () => sub));
      const ws = new WebSocket(urls[run % 2]!);
      let got = 0;
      const t = await new Promise<number>((resolve, reject) => {
        let t0 = 0;
        ws.on('open', () => {
          t0 = performance.now();
          ws.send(JSON.stringify({ type: 'auth', token, resume: first.seq }));
        });
        ws.on('message', (d) => {
          if ((JSON.parse(d.toString()) as { type: string }).type === 'notification' && ++got === MISSED) resolve(performance.now() - t0);
        });
        ws.on('close', (c) => reject(new Error(`closed ${c}`)));
      });
      ws.terminate();
      single.push(t);
    }
    single.sort((a, b) => a - b);
    results.resume_1000 = { runs_ms: single.map((x) => Math.round(x)), median_ms: Math.round(pct(single, 0.5)) };
    console.error(`resume of ${MISSED} missed: median ${Math.round(pct(single, 0.5))} ms`);

    // 2. The storm.
    const me = fileURLToPath(import.meta.url);
    const per = Math.ceil(STORM / WORKERS);
    for (let w = 0; w < WORKERS; w++) workers.push(fork(me, ['worker'], { execArgv: ['--import', 'tsx'], cwd: REPO_ROOT, stdio: 'inherit' }));
    const ask = (w: ChildProcess, m: Cmd) =>
      new Promise<Record<string, number>>((resolve, reject) => {
        const on = (r: Record<string, unknown>) => {
          w.off('message', on);
          if (r.error) reject(new Error(String(r.error)));
          else resolve(r as Record<string, number>);
        };
        w.on('message', on);
        w.send(m);
      });
    const tc = Date.now();
    await Promise.all(workers.map((w, i) => ask(w, { cmd: 'connect', urls, from: i * per, count: Math.min(per, STORM - i * per) })));
    console.error(`${STORM} clients connected in ${Date.now() - tc} ms`);

    // Other clients with a steady live stream, in this process.
    const others: WebSocket[] = [];
    const latencies: number[] = [];
    const timeline: Array<[number, number]> = [];
    let measuring = false;
    for (let i = 0; i < OTHERS; i++) {
      const token = await mintToken({ sub: `o${i}`, tid: 'acme' });
      others.push(
        await openClient(urls[i % 2]!, token, () => undefined, (m) => {
          if (measuring) {
            latencies.push(Date.now() - m.ts);
            timeline.push([Date.now(), Date.now() - m.ts]);
          }
        }),
      );
    }
    let streaming = true;
    const js = jetstream(nc);
    const stream = (async () => {
      let i = 0;
      while (streaming) {
        const s = `o${i % OTHERS}`;
        void js.publish(roomSubject(prefix, 'n', 'acme', { kind: 'user', id: s }), body(s, i++)).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 1000 / OTHER_RATE));
      }
    })();

    await Promise.all(workers.map((w) => ask(w, { cmd: 'drop' })));
    const subs = Array.from({ length: STORM }, (_, i) => `s${i}`);
    await publishMany(nc, prefix, subs);
    // Baseline latency before the storm, same stream.
    measuring = true;
    await new Promise((r) => setTimeout(r, 3_000));
    const before = [...latencies].sort((a, b) => a - b);
    latencies.length = 0;
    timeline.length = 0;
    // Is the measuring process itself stalled (CPU starvation) when latencies spike?
    let lastTick = performance.now();
    let maxLag = 0;
    const lagTimer = setInterval(() => {
      const now = performance.now();
      maxLag = Math.max(maxLag, now - lastTick - 10);
      lastTick = now;
    }, 10);
    const edgeBefore = await latencyBuckets(edges.map((e) => e.internalUrl));
    const t0 = Date.now();
    const outs = await Promise.all(workers.map((w) => ask(w, { cmd: 'resume' })));
    const edgeAfter = await latencyBuckets(edges.map((e) => e.internalUrl));
    clearInterval(lagTimer);
    const allLive = Math.max(...outs.map((o) => (o.t0 ?? 0) + (o.lastMs ?? 0) - t0));
    measuring = false;
    streaming = false;
    await stream;
    const during = [...latencies].sort((a, b) => a - b);
    results.storm = {
      clients: STORM,
      edges: 2,
      all_live_ms: allLive,
      worker_p50_caught_up_ms: outs.map((o) => o.p50),
      other_clients: OTHERS,
      other_rate_per_s: OTHER_RATE,
      latency_before_ms: { n: before.length, p50: pct(before, 0.5), p99: pct(before, 0.99) },
      latency_during_ms: { n: during.length, p50: pct(during, 0.5), p99: pct(during, 0.99), max: during.at(-1) },
      measuring_process_max_event_loop_lag_ms: Math.round(maxLag),
      edge_histogram_during: { p50: histogramQuantile(edgeBefore, edgeAfter, 0.5), p99: histogramQuantile(edgeBefore, edgeAfter, 0.99) },
    };
    // Worst latency per second of the storm: where the slow deliveries sit.
    const perSecond: number[] = [];
    for (const [at, lat] of timeline) {
      const i = Math.floor((at - t0) / 1000);
      if (i >= 0) perSecond[i] = Math.max(perSecond[i] ?? 0, lat);
    }
    (results.storm as Record<string, unknown>).max_latency_per_second_ms = Array.from(perSecond, (x) => x ?? 0);
    for (const o of others) o.terminate();
  } finally {
    for (const w of workers) w.send({ cmd: 'exit' });
    await Promise.all(edges.map((e) => e.p.stop(env.BENCH_PROFILE ? 'SIGTERM' : 'SIGKILL')));
    await nc.drain();
    await nats.dispose();
  }
  const out = JSON.stringify(results, null, 2);
  console.log(out);
  const dir = join(REPO_ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'resume.json'), `${out}\n`);
}

if (process.argv[2] === 'worker') void worker();
else
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
