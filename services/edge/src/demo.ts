import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SignJWT } from 'jose';
import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Edge } from './server.js';
import { readRequest, statusLine } from './transports/http.js';

/**
 * Demo mode (HERALD_DEMO=true, refused in production by config): a page at `/demo` that
 * signs in as one of a few fixed users, shows notifications as they arrive and sends
 * new ones through the publisher API. Tokens are minted here, server-side, with the dev
 * HS256 secret, for these users only; nothing here exists unless demo mode is on.
 */

export interface DemoUser {
  readonly id: string;
  readonly name: string;
  readonly tenant: string;
  readonly roles: readonly string[];
  readonly rooms: readonly string[];
  readonly label: string;
}

export const DEMO_USERS: readonly DemoUser[] = [
  { id: 'alice', name: 'Alice', tenant: 'acme', roles: ['member'], rooms: ['ops'], label: 'member' },
  { id: 'adam', name: 'Adam', tenant: 'acme', roles: ['admin'], rooms: ['ops'], label: 'tenant admin' },
  { id: 'sara', name: 'Sara', tenant: 'acme', roles: ['admin', 'super_admin'], rooms: ['ops'], label: 'super admin' },
  { id: 'gary', name: 'Gary', tenant: 'globex', roles: ['member'], rooms: ['ops'], label: 'member' },
  { id: 'gwen', name: 'Gwen', tenant: 'globex', roles: ['admin'], rooms: ['ops'], label: 'tenant admin' },
  { id: 'sven', name: 'Sven', tenant: 'globex', roles: ['admin', 'super_admin'], rooms: ['ops'], label: 'super admin' },
];

export interface DemoOptions {
  /** Publisher base URL the send form goes to (server-side, so CORS stays exact-origin). */
  readonly publisherUrl?: string;
  /** Audience of the publisher's service tokens (its HERALD_JWT_AUDIENCE). */
  readonly publisherAudience?: string;
  /** Client token lifetime; short so the page shows token refresh. */
  readonly tokenTtlS?: number;
}

const here = dirname(fileURLToPath(import.meta.url));
const assets = resolve(here, '../demo');
const sdkPackage = resolve(here, '../../sdk/package.json');
const MAX_BODY = 16 * 1024;

/** The `routes` hook for createEdge: registers /demo and its API, only in demo mode with an HS256 secret. */
export function demoRoutes(opts: DemoOptions = {}): (app: TemplatedApp, edge: Edge) => void {
  return (app, edge) => {
    const { config, log } = edge;
    if (!config.demo || config.production) return;
    const secret = config.jwt.secret;
    const key = secret ? new TextEncoder().encode(secret) : undefined;
    const publisherUrl = (opts.publisherUrl ?? 'http://127.0.0.1:8081').replace(/\/+$/, '');
    const ttl = opts.tokenTtlS ?? 600;
    const dlog = log.child({ component: 'demo' });
    const sign = async (claims: Record<string, unknown>, sub: string, audience: string, ttlS: number) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(sub)
        .setIssuer(config.jwt.issuer)
        .setAudience(audience)
        .setIssuedAt(now)
        .setExpirationTime(now + ttlS)
        .sign(key!);
    };
    // Only the page's own origin (or none, e.g. curl) may mint tokens or send: the allow-list applies.
    const originOk = (origin: string) => !origin || config.allowedOrigins.includes(origin);
    let bundle: Promise<string> | undefined;

    app.get('/demo', (res) => {
      res.cork(() => sendFile(res, 'index.html', 'text/html; charset=utf-8'));
    });
    app.get('/demo/app.css', (res) => {
      res.cork(() => sendFile(res, 'app.css', 'text/css; charset=utf-8'));
    });
    app.get('/demo/app.js', (res) => {
      let aborted = false;
      res.onAborted(() => (aborted = true));
      bundle ??= buildBundle();
      bundle.then(
        (js) => !aborted && res.cork(() => send(res, 200, 'text/javascript; charset=utf-8', js)),
        (err: unknown) => {
          bundle = undefined;
          dlog.error({ err: String(err) }, 'cannot bundle the demo page (is the SDK package installed?)');
          if (!aborted) res.cork(() => send(res, 503, 'text/plain', 'demo bundle unavailable'));
        },
      );
    });
    app.get('/demo/users', (res) => {
      res.cork(() => json(res, 200, { users: DEMO_USERS.map(({ id, name, tenant, label, rooms }) => ({ id, name, tenant, label, rooms })), signing: Boolean(key) }));
    });

    app.post('/demo/token', (res, req) => {
      const info = readRequest(res, req, config.trustProxy);
      readJson(res, (body) => {
        if (!originOk(info.origin)) return { status: 403, body: { error: 'origin not allowed' } };
        if (!key) return { status: 501, body: { error: 'demo sign-in needs HERALD_JWT_SECRET' } };
        const user = DEMO_USERS.find((u) => u.id === (body as { user?: unknown } | undefined)?.user);
        if (!user) return { status: 404, body: { error: 'unknown demo user' } };
        return sign({ [config.jwt.tenantClaim]: user.tenant, [config.jwt.rolesClaim]: user.roles, [config.jwt.roomsClaim]: user.rooms }, user.id, config.jwt.audience, ttl).then(
          (token) => ({ status: 200, body: { token, expires_in_s: ttl } }),
        );
      });
    });

    app.post('/demo/send', (res, req) => {
      const info = readRequest(res, req, config.trustProxy);
      readJson(res, async (body) => {
        if (!originOk(info.origin)) return { status: 403, body: { error: 'origin not allowed' } };
        if (!key) return { status: 501, body: { error: 'demo send needs HERALD_JWT_SECRET' } };
        const b = (body ?? {}) as Record<string, unknown>;
        if (!DEMO_USERS.some((u) => u.tenant === b.tenant)) return { status: 400, body: { error: 'tenant must be a demo tenant' } };
        const token = await sign({ scope: 'notify:publish notify:global', tenants: [...new Set(DEMO_USERS.map((u) => u.tenant))] }, 'herald-demo', opts.publisherAudience ?? 'herald-publisher', 60);
        try {
          const r = await fetch(`${publisherUrl}/v1/notifications`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
            body: JSON.stringify({ tenant: b.tenant, room: b.room, event: b.event, data: b.data ?? {} }),
            signal: AbortSignal.timeout(5_000),
          });
          return { status: r.status, body: await r.json().catch(() => ({})) };
        } catch (err) {
          dlog.warn({ err: String(err), publisherUrl }, 'demo send: publisher unreachable');
          return { status: 502, body: { error: `publisher unreachable at ${publisherUrl}` } };
        }
      });
    });
    dlog.info({ path: '/demo', publisherUrl, signing: Boolean(key) }, 'demo page enabled');
  };
}

interface Reply {
  readonly status: number;
  readonly body: unknown;
}

/** Read a small JSON body, then answer with what `handle` returns. */
function readJson(res: HttpResponse, handle: (body: unknown) => Reply | Promise<Reply>): void {
  let aborted = false;
  let size = 0;
  const chunks: Buffer[] = [];
  res.onAborted(() => (aborted = true));
  res.onData((chunk, last) => {
    size += chunk.byteLength;
    if (size > MAX_BODY) {
      if (!aborted) res.cork(() => json(res, 413, { error: 'body too large' }));
      aborted = true;
      return;
    }
    chunks.push(Buffer.from(chunk.slice(0)));
    if (!last || aborted) return;
    let body: unknown;
    try {
      body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
    } catch {
      res.cork(() => json(res, 400, { error: 'malformed JSON' }));
      return;
    }
    Promise.resolve()
      .then(() => handle(body))
      .then(
        (reply) => {
          if (!aborted) res.cork(() => json(res, reply.status, reply.body));
        },
        () => !aborted && res.cork(() => json(res, 500, { error: 'demo error' })),
      );
  });
}

function send(res: HttpResponse, status: number, type: string, body: string | Buffer): void {
  res.writeStatus(statusLine(status));
  res.writeHeader('Content-Type', type);
  res.writeHeader('Cache-Control', 'no-store');
  res.writeHeader('X-Content-Type-Options', 'nosniff');
  res.writeHeader('Content-Security-Policy', "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
  res.end(body);
}

function json(res: HttpResponse, status: number, body: unknown): void {
  send(res, status, 'application/json', JSON.stringify(body));
}

function sendFile(res: HttpResponse, name: string, type: string): void {
  send(res, 200, type, readFileSync(join(assets, name)));
}

interface EsbuildLike {
  build(opts: Record<string, unknown>): Promise<{ outputFiles: Array<{ text: string }> }>;
}

/**
 * Bundle demo/app.ts with the SDK on first request. esbuild comes from the SDK package's
 * dev dependencies: the edge itself does not depend on a bundler, and an image without the
 * SDK just has no demo page.
 */
async function buildBundle(): Promise<string> {
  const req = createRequire(sdkPackage);
  const esbuild = (await import(pathToFileURL(req.resolve('esbuild')).href)) as EsbuildLike;
  const out = await esbuild.build({
    entryPoints: [join(assets, 'app.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    write: false,
    alias: { '@herald/client': resolve(here, '../../sdk/src/index.ts') },
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}
