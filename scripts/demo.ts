/**
 * `make demo`: a working Herald on this machine. Starts nats-server (JetStream) from
 * tools/, the publisher and an edge, then a sample source that publishes through the
 * publisher's HTTP API every second to a user room and a tenant room. Prints a dev
 * token and commands to watch the notifications arrive over WebSocket and SSE.
 * Ctrl-C stops everything it started.
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
const ports = { nats: 4222, edge: 8080, edgeInternal: 9090, publisher: 8081, publisherInternal: 9091 };
const secret = randomBytes(32).toString('base64url');
const issuer = 'https://demo.herald.local';
const children: ChildProcess[] = [];
let stopping = false;

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
  children.push(child);
  return child;
}

async function waitHttp(url: string, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
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

async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  log('\nstopping…');
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((r) => {
          if (c.exitCode !== null || c.signalCode !== null) return r();
          c.once('exit', () => r());
          c.kill('SIGTERM');
          setTimeout(() => c.kill('SIGKILL'), 8_000).unref();
        }),
    ),
  );
  log('demo stopped.');
  process.exit(code);
}

async function main(): Promise<void> {
  if (!existsSync(natsBin)) {
    log(`nats-server is not built yet: run \`make tools\` (about 2 minutes, once).`);
    process.exit(1);
  }
  for (const [name, port] of Object.entries(ports)) {
    if (!(await portFree(port))) {
      log(`port ${port} (${name}) is in use on 127.0.0.1; stop whatever uses it and run \`make demo\` again.`);
      process.exit(1);
    }
  }
  mkdirSync(join(work, 'nats'), { recursive: true });
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  log('starting nats-server (JetStream)…');
  start('nats', natsBin, ['-a', '127.0.0.1', '-p', String(ports.nats), '-js', '-sd', join(work, 'nats'), '-m', '8222'], {});
  const natsUrl = `nats://127.0.0.1:${ports.nats}`;
  await waitHttp('http://127.0.0.1:8222/healthz', 'nats-server');

  const common = { HERALD_NATS_URL: natsUrl, HERALD_JWT_SECRET: secret, HERALD_JWT_ISSUER: issuer, HERALD_HOST: '127.0.0.1', HERALD_LOG_LEVEL: 'info', NODE_ENV: 'development' };
  const tsx = ['--import', 'tsx'];
  log('starting the publisher…');
  start('publisher', process.execPath, [...tsx, 'services/publisher/src/main.ts'], {
    ...common,
    HERALD_PORT: String(ports.publisher),
    HERALD_INTERNAL_PORT: String(ports.publisherInternal),
  });
  log('starting an edge…');
  start('edge', process.execPath, [...tsx, 'services/edge/src/main.ts'], {
    ...common,
    HERALD_JWT_AUDIENCE: 'herald',
    HERALD_PORT: String(ports.edge),
    HERALD_INTERNAL_PORT: String(ports.edgeInternal),
    HERALD_ALLOWED_ORIGINS: `http://127.0.0.1:${ports.edge},http://localhost:${ports.edge}`,
    HERALD_DRAIN_DELAY_S: '0',
    HERALD_DRAIN_WINDOW_S: '1',
  });
  await waitHttp(`http://127.0.0.1:${ports.publisherInternal}/readyz`, 'publisher');
  await waitHttp(`http://127.0.0.1:${ports.edgeInternal}/readyz`, 'edge');

  const userToken = await sign({ sub: 'alice', tid: 'acme', roles: ['admin'] }, 'herald', 12 * 3600);
  const serviceToken = await sign({ sub: 'demo-source', scope: 'notify:publish', tenants: ['acme'] }, 'herald-publisher', 12 * 3600);
  writeFileSync(join(work, 'user.token'), userToken);
  writeFileSync(join(work, 'service.token'), serviceToken);

  const pub = `http://127.0.0.1:${ports.publisher}/v1/notifications`;
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
  setInterval(() => void tick(), 1000);

  log(`
Herald is running (logs in .demo/*.log). A sample source publishes to user:alice and the
acme tenant room every second. Alice is an acme admin, so she receives both.

  dev token for alice (12 h):  .demo/user.token

Watch over WebSocket:
  node scripts/watch.mjs ws $(cat .demo/user.token)

Watch over SSE:
  curl -N -H "Authorization: Bearer $(cat .demo/user.token)" http://127.0.0.1:${ports.edge}/sse

Send your own notification:
  curl -sS -X POST ${pub} \\
    -H "Authorization: Bearer $(cat .demo/service.token)" -H 'Content-Type: application/json' \\
    -d '{"tenant":"acme","room":"user:alice","event":"hello.world","data":{"text":"hi <b>there</b>"}}'

Metrics: http://127.0.0.1:${ports.edgeInternal}/metrics  http://127.0.0.1:${ports.publisherInternal}/metrics
Press Ctrl-C to stop everything.
`);
}

main().catch((err: unknown) => {
  log(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  void stop(1);
});
