/**
 * `make demo`: a working Herald on this machine, with the demo page.
 *
 * - With tools/bin/nats-server (after `make tools`): nats-server (JetStream), the
 *   publisher and two edges, each serving the demo page.
 * - Without it: `herald standalone` (edge + publisher in one process, in-memory bus
 *   and history), so a fresh clone needs nothing but Node.
 *
 * Then a sample source publishes through the publisher's HTTP API every second. Prints
 * the URLs, a dev token and copy-paste commands. Ctrl-C stops everything it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, '.demo');
const natsBin = join(process.env.HERALD_TOOLS ?? join(root, 'tools'), 'bin', 'nats-server');
const mode: 'cluster' | 'standalone' = existsSync(natsBin) ? 'cluster' : 'standalone';
const edges = mode === 'cluster' ? [{ port: 8080, internal: 9090 }, { port: 8082, internal: 9092 }] : [{ port: 8080, internal: 9090 }];
const publisher = { port: 8081, internal: 9091 };
const nats = { port: 4222, monitor: 8222 };
const secret = randomBytes(32).toString('base64url');
const issuer = 'https://demo.herald.local';
const origins = edges.flatMap((e) => [`http://127.0.0.1:${e.port}`, `http://localhost:${e.port}`]).join(',');
const children: Array<{ name: string; child: ChildProcess }> = [];
const started = Date.now();
let stopping = false;
let sampler: NodeJS.Timeout | undefined;

function log(msg: string): void {
  process.stdout.write(`${msg}\n`);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((r) => {
    const s = createServer();
    s.once('error', () => r(false));
    s.listen(port, '127.0.0.1', () => s.close(() => r(true)));
  });
}

function start(name: string, cmd: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(cmd, args, { cwd: root, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const file = join(work, `${name}.log`);
  writeFileSync(file, '');
  const append = (d: Buffer) => writeFileSync(file, d, { flag: 'a' });
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  child.once('exit', (code, signal) => {
    if (!stopping) {
      log(`\n${name} exited (${code ?? signal}); see ${file}. Stopping the demo.`);
      void stop(1);
    }
  });
  children.push({ name, child });
  return child;
}

async function waitHttp(url: string, what: string, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stopping) throw new Error('stopping');
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not become ready within ${timeoutMs / 1000} s (logs in ${work})`);
}

async function sign(claims: Record<string, unknown>, audience: string, ttlS: number): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer(issuer).setAudience(audience).setIssuedAt(now).setExpirationTime(now + ttlS).sign(new TextEncoder().encode(secret));
}

function stopChild(c: ChildProcess): Promise<void> {
  return new Promise<void>((r) => {
    if (c.exitCode !== null || c.signalCode !== null) return r();
    c.once('exit', () => r());
    c.kill('SIGTERM');
    setTimeout(() => c.kill('SIGKILL'), 8_000).unref();
  });
}

async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (sampler) clearInterval(sampler);
  log('\nstopping…');
  // Edges and publisher first (they drain into NATS), NATS last.
  const services = children.filter((c) => c.name !== 'nats');
  await Promise.all(services.map((c) => stopChild(c.child)));
  const n = children.find((c) => c.name === 'nats');
  if (n) await stopChild(n.child);
  log('demo stopped.');
  process.exit(code);
}

const tsx = ['--import', 'tsx'];
const common = { HERALD_JWT_SECRET: secret, HERALD_JWT_ISSUER: issuer, HERALD_HOST: '127.0.0.1', HERALD_LOG_LEVEL: 'info', NODE_ENV: 'development' };
const edgeSettings = { HERALD_JWT_AUDIENCE: 'herald', HERALD_ALLOWED_ORIGINS: origins, HERALD_DEMO: 'true', HERALD_DRAIN_DELAY_S: '0', HERALD_DRAIN_WINDOW_S: '1' };

async function startCluster(): Promise<void> {
  mkdirSync(join(work, 'nats'), { recursive: true });
  log('starting nats-server (JetStream)…');
  start('nats', natsBin, ['-a', '127.0.0.1', '-p', String(nats.port), '-js', '-sd', join(work, 'nats'), '-m', String(nats.monitor)], {});
  await waitHttp(`http://127.0.0.1:${nats.monitor}/healthz`, 'nats-server');
  const natsUrl = `nats://127.0.0.1:${nats.port}`;
  log('starting the publisher and two edges…');
  start('publisher', process.execPath, [...tsx, 'services/publisher/src/main.ts'], {
    ...common,
    HERALD_NATS_URL: natsUrl,
    HERALD_PORT: String(publisher.port),
    HERALD_INTERNAL_PORT: String(publisher.internal),
  });
  edges.forEach((e, i) =>
    start(`edge-${i + 1}`, process.execPath, [...tsx, 'services/edge/src/main.ts'], {
      ...common,
      ...edgeSettings,
      HERALD_NATS_URL: natsUrl,
      HERALD_NATS_NAME: `herald-edge-${i + 1}`,
      HERALD_PORT: String(e.port),
      HERALD_INTERNAL_PORT: String(e.internal),
    }),
  );
}

async function startStandalone(): Promise<void> {
  log(`tools/bin/nats-server is not there (run \`make tools\` for the full setup): starting \`herald standalone\`…`);
  start('standalone', process.execPath, [...tsx, 'services/standalone/src/main.ts', 'standalone'], {
    ...common,
    ...edgeSettings,
    HERALD_PORT: String(edges[0]!.port),
    HERALD_INTERNAL_PORT: String(edges[0]!.internal),
    HERALD_PUBLISHER_PORT: String(publisher.port),
    HERALD_PUBLISHER_INTERNAL_PORT: String(publisher.internal),
  });
}

async function main(): Promise<void> {
  const wanted: Array<[string, number]> = [
    ...edges.flatMap((e, i): Array<[string, number]> => [[`edge ${i + 1}`, e.port], [`edge ${i + 1} internal`, e.internal]]),
    ['publisher', publisher.port],
    ['publisher internal', publisher.internal],
    ...(mode === 'cluster' ? ([['nats', nats.port], ['nats monitor', nats.monitor]] as Array<[string, number]>) : []),
  ];
  for (const [name, port] of wanted) {
    if (!(await portFree(port))) {
      log(`port ${port} (${name}) is in use on 127.0.0.1; stop whatever uses it and run \`make demo\` again.`);
      process.exit(1);
    }
  }
  mkdirSync(work, { recursive: true });
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  if (mode === 'cluster') await startCluster();
  else await startStandalone();
  await waitHttp(`http://127.0.0.1:${publisher.internal}/readyz`, 'publisher');
  for (const e of edges) await waitHttp(`http://127.0.0.1:${e.internal}/readyz`, `edge on ${e.port}`);
  // Bundle the page now, so the first browser visit is instant and a problem shows here.
  await waitHttp(`http://127.0.0.1:${edges[0]!.port}/demo/app.js`, 'demo page bundle');

  const userToken = await sign({ sub: 'alice', tid: 'acme', roles: ['admin'] }, 'herald', 12 * 3600);
  const serviceToken = await sign({ sub: 'demo-source', scope: 'notify:publish', tenants: ['acme', 'globex'] }, 'herald-publisher', 12 * 3600);
  writeFileSync(join(work, 'user.token'), userToken);
  writeFileSync(join(work, 'service.token'), serviceToken);

  const pub = `http://127.0.0.1:${publisher.port}/v1/notifications`;
  let n = 0;
  const tick = async () => {
    n++;
    for (const [room, event] of [['user:alice', 'order.shipped'], ['tenant', 'invoice.paid']] as const) {
      try {
        const res = await fetch(pub, {
          method: 'POST',
          headers: { Authorization: `Bearer ${serviceToken}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ tenant: 'acme', room, event, data: { n, note: `sample ${n} for ${room}` } }),
        });
        if (!res.ok && !stopping) log(`sample publish to ${room} failed: HTTP ${res.status}`);
      } catch {
        /* publisher restarting; next tick retries */
      }
    }
  };
  sampler = setInterval(() => void tick(), 1000);

  const e1 = edges[0]!;
  const topology =
    mode === 'cluster'
      ? `nats-server :${nats.port}, publisher :${publisher.port}, edges :${edges.map((e) => e.port).join(' and :')}`
      : `herald standalone: edge :${e1.port} + publisher :${publisher.port} in one process, in-memory bus and history`;
  log(`
Herald is running (${topology}); started in ${((Date.now() - started) / 1000).toFixed(1)} s. Logs in .demo/*.log.

  Demo page:  http://127.0.0.1:${e1.port}/demo${mode === 'cluster' ? `   (the other edge: http://127.0.0.1:${edges[1]!.port}/demo)` : ''}
              sign in as a member, tenant admin or super admin of acme or globex and send notifications.

A sample source publishes to user:alice and the acme tenant room every second.
Alice (acme) in the dev token below is an admin, so she receives both.

  dev token for alice (12 h):  .demo/user.token

Watch over WebSocket:
  node scripts/watch.mjs ws $(cat .demo/user.token)${mode === 'cluster' ? `\n  node scripts/watch.mjs ws $(cat .demo/user.token) ws://127.0.0.1:${edges[1]!.port}/ws   # the other edge` : ''}

Watch over SSE:
  curl -N -H "Authorization: Bearer $(cat .demo/user.token)" http://127.0.0.1:${e1.port}/sse

Send your own notification:
  curl -sS -X POST ${pub} \\
    -H "Authorization: Bearer $(cat .demo/service.token)" -H 'Content-Type: application/json' \\
    -d '{"tenant":"acme","room":"user:alice","event":"hello.world","data":{"text":"hi <b>there</b>"}}'

Metrics: ${edges.map((e) => `http://127.0.0.1:${e.internal}/metrics`).join('  ')}  http://127.0.0.1:${publisher.internal}/metrics
Press Ctrl-C to stop everything.
`);
}

main().catch((err: unknown) => {
  if (stopping) return;
  log(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  void stop(1);
});
