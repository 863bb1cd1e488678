/**
 * Publish throughput benchmark (not a test): one nats-server with JetStream, one
 * publisher process, autocannon in this process. Prints requests/s, notifications/s
 * and latency p50/p99 for single and batch publishes.
 *
 *   make bench-publisher            (BENCH_DURATION_S=10 BENCH_CONNECTIONS=50 BENCH_BATCH=100)
 */
import autocannon from 'autocannon';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { NatsServer, REPO_ROOT, ServiceProcess, TEST_ISSUER, TEST_SECRET, freePort, mintServiceToken, uniquePrefix, waitFor } from '@herald/testkit';

const duration = Number(process.env.BENCH_DURATION_S ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const batchSize = Number(process.env.BENCH_BATCH ?? 100);

interface Row {
  scenario: string;
  connections: number;
  requestsPerS: number;
  notificationsPerS: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

async function run(
  scenario: string,
  url: string,
  body: string,
  perRequest: number,
  conns: number,
  token: string,
): Promise<Row> {
  const r = await autocannon({
    url,
    method: 'POST',
    connections: conns,
    duration,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body,
  });
  return {
    scenario,
    connections: conns,
    requestsPerS: Math.round(r.requests.average),
    notificationsPerS: Math.round(r.requests.average * perRequest),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
  };
}

async function main(): Promise<void> {
  const nats = await NatsServer.start({ jetstream: true });
  const [port, internal] = [await freePort(), await freePort()];
  const prefix = uniquePrefix();
  const pub = new ServiceProcess('services/publisher/src/main.ts', {
    HERALD_NATS_URL: nats.url,
    HERALD_JWT_SECRET: TEST_SECRET,
    HERALD_JWT_ISSUER: TEST_ISSUER,
    HERALD_HOST: '127.0.0.1',
    HERALD_PORT: String(port),
    HERALD_INTERNAL_PORT: String(internal),
    HERALD_SUBJECT_PREFIX: prefix,
    HERALD_STREAM_MAX_BYTES: String(512 * 1024 * 1024),
    HERALD_TENANT_RATE: '10000000',
    HERALD_TENANT_BURST: '10000000',
    HERALD_DRAIN_DELAY_S: '0',
    HERALD_LOG_LEVEL: 'warn',
    ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
  });
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${internal}/readyz`).catch(() => undefined))?.status === 200, {
      timeoutMs: 30_000,
      what: 'publisher ready',
    });
    const token = await mintServiceToken({ tenants: '*' }, { expiresIn: 3600 });
    const item = (i: number) => ({ tenant: 'acme', room: `user:${i % 1000}`, event: 'bench.event', data: { order: `A-${i}`, amount: 42, note: 'hello' } });
    const base = `http://127.0.0.1:${port}`;
    // Warm up JIT and connections.
    await autocannon({ url: `${base}/v1/notifications`, method: 'POST', connections: 10, duration: 2, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(item(1)) });
    const rows: Row[] = [];
    rows.push(await run('single', `${base}/v1/notifications`, JSON.stringify(item(1)), 1, connections, token));
    rows.push(await run('single, 1 connection', `${base}/v1/notifications`, JSON.stringify(item(1)), 1, 1, token));
    const batch = JSON.stringify({ notifications: Array.from({ length: batchSize }, (_, i) => item(i)) });
    rows.push(await run(`batch of ${batchSize}`, `${base}/v1/notifications/batch`, batch, batchSize, Math.max(1, Math.round(connections / 5)), token));

    const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.version}`;
    console.log(`\nHerald publisher, ${duration}s per scenario, one nats-server (JetStream, file store), ${machine}\n`);
    console.log('| scenario | connections | requests/s | notifications/s | p50 ms | p99 ms | non-2xx | errors |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      console.log(`| ${r.scenario} | ${r.connections} | ${r.requestsPerS} | ${r.notificationsPerS} | ${r.p50Ms} | ${r.p99Ms} | ${r.non2xx} | ${r.errors} |`);
    }
    const out = join(REPO_ROOT, 'bench-results');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'publisher.json'), JSON.stringify({ at: new Date().toISOString(), duration, machine, rows }, null, 2));
    if (rows.some((r) => r.non2xx > 0 || r.errors > 0)) process.exitCode = 1;
  } finally {
    await pub.stop();
    await nats.dispose();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
