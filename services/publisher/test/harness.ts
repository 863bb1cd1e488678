import { connect, type NatsConnection, type Msg } from '@nats-io/transport-node';
import { Writable } from 'node:stream';
import { NatsServer, TEST_ISSUER, TEST_SECRET, mintServiceToken, uniquePrefix, type ServiceClaims } from '@herald/testkit';
import { loadConfig, startPublisher, type Publisher, type PublisherConfig } from '../src/index.js';
import { createLogger } from '../src/logger.js';

export interface Harness {
  readonly prefix: string;
  readonly config: PublisherConfig;
  readonly p: Publisher;
  readonly url: string;
  readonly internalUrl: string;
  readonly logs: Array<Record<string, unknown>>;
  /** Security log events (event: 'security'). */
  security(): Array<Record<string, unknown>>;
  token(claims?: ServiceClaims): Promise<string>;
  post(path: string, body: unknown, opts?: { token?: string | null; headers?: Record<string, string>; raw?: string }): Promise<Res>;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

export interface Res {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

/** Env for a publisher against `nats`, unique prefix and stream so tests can share one server. */
export function baseEnv(nats: NatsServer, prefix: string): Record<string, string> {
  return {
    HERALD_NATS_URL: nats.url,
    HERALD_JWT_SECRET: TEST_SECRET,
    HERALD_JWT_ISSUER: TEST_ISSUER,
    HERALD_HOST: '127.0.0.1',
    HERALD_PORT: '0',
    HERALD_INTERNAL_PORT: '0',
    HERALD_SUBJECT_PREFIX: prefix,
    HERALD_STREAM_NAME: `S_${prefix}`,
    HERALD_DRAIN_DELAY_S: '0',
    HERALD_LOG_LEVEL: 'info',
    // The test server's file store is 1 GB; the default max_bytes would reserve all of it.
    HERALD_STREAM_MAX_BYTES: String(16 * 1024 * 1024),
  };
}

/** Start an in-process publisher with captured logs; `env` overrides the defaults. */
export async function startHarness(nats: NatsServer, env: Record<string, string> = {}, opts: { waitReady?: boolean } = {}): Promise<Harness> {
  const prefix = env.HERALD_SUBJECT_PREFIX ?? uniquePrefix();
  const config = loadConfig({ ...baseEnv(nats, prefix), ...env });
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const p = await startPublisher(config, { log: createLogger('info', sink) });
  let timer: NodeJS.Timeout | undefined;
  if (opts.waitReady !== false) await Promise.race([
    p.ready,
    new Promise((_r, reject) => (timer = setTimeout(() => reject(new Error(`publisher not ready: ${JSON.stringify(logs.slice(-3))}`)), 15_000))),
  ]).finally(() => clearTimeout(timer));
  const url = `http://127.0.0.1:${p.ports.public}`;
  const internalUrl = `http://127.0.0.1:${p.ports.internal}`;
  return {
    prefix,
    config,
    p,
    url,
    internalUrl,
    logs,
    security: () => logs.filter((l) => l.event === 'security'),
    token: (claims = {}) => mintServiceToken({ tenants: ['acme', 'beta'], ...claims }),
    async post(path, body, opts = {}) {
      const token = opts.token === undefined ? await mintServiceToken({ tenants: ['acme', 'beta'] }) : opts.token;
      const res = await fetch(url + path, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...opts.headers,
        },
        body: opts.raw ?? JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: Record<string, unknown> = {};
      try {
        parsed = JSON.parse(text) as Record<string, unknown>;
      } catch {
        /* not JSON */
      }
      return { status: res.status, headers: res.headers, body: parsed, text };
    },
    async metric(name, labels = {}) {
      const text = await (await fetch(`${internalUrl}/metrics`)).text();
      let total = 0;
      for (const line of text.split('\n')) {
        if (!line.startsWith(name)) continue;
        const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
        if (!m || m[1] !== name) continue;
        const ls = m[2] ?? '';
        if (Object.entries(labels).every(([k, v]) => ls.includes(`${k}="${v}"`))) total += Number(m[3]);
      }
      return total;
    },
    close: () => p.close({ drainDelayS: 0 }),
  };
}

/** A raw core-NATS subscription on `<prefix>.live.>` recording subject, headers and body. */
export class LiveTap {
  readonly msgs: Array<{ subject: string; seq: number; body: string; headers: Record<string, string> }> = [];
  private constructor(private readonly nc: NatsConnection) {}

  static async start(natsUrl: string, prefix: string): Promise<LiveTap> {
    const nc = await connect({ servers: natsUrl });
    const tap = new LiveTap(nc);
    nc.subscribe(`${prefix}.live.>`, {
      callback: (_err, m: Msg) => {
        const headers: Record<string, string> = {};
        for (const k of m.headers?.keys() ?? []) headers[k] = m.headers!.get(k);
        tap.msgs.push({ subject: m.subject, seq: Number(headers['Nats-Sequence']), body: m.string(), headers });
      },
    });
    await nc.flush();
    return tap;
  }

  close(): Promise<void> {
    return this.nc.close();
  }
}
