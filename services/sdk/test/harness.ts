import { Writable } from 'node:stream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import WS from 'ws';
import { createEdge, createLogger, loadConfig, makeShutdown, NatsBus, startEdge, type Edge, type EdgeDeps } from '@herald/edge';
import { ensureStream } from '@herald/publisher';
import { formatRoom, roomSubject, type Room, type StoredNotification } from '@herald/protocol';
import { freePort, mintToken, NatsServer, TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET, uniquePrefix, type ClientClaims } from '@herald/testkit';
import { HeraldClient, type HeraldClientOptions, type HeraldEvents, type WebSocketConstructor } from '../src/index.js';

/** Log lines of an in-process edge, kept for assertions. */
export class Lines extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    for (const l of chunk.toString().split('\n')) if (l) this.lines.push(JSON.parse(l) as Record<string, unknown>);
    cb();
  }
}

export interface RunningEdge {
  readonly edge: Edge;
  readonly port: number;
  readonly url: string;
  readonly logs: Lines;
  stop(): Promise<void>;
}

/** An edge in this process (as services/edge/test/harness.ts does), on a fixed or free port and a real NATS. */
export async function startTestEdge(
  natsUrl: string,
  prefix: string,
  opts: { port?: number; env?: Record<string, string>; routes?: EdgeDeps['routes']; stream?: string } = {},
): Promise<RunningEdge> {
  const config = loadConfig({
    HERALD_NATS_URL: natsUrl,
    HERALD_SUBJECT_PREFIX: prefix,
    HERALD_STREAM_NAME: opts.stream ?? 'HERALD',
    HERALD_HOST: '127.0.0.1',
    HERALD_PORT: String(opts.port ?? 0),
    HERALD_INTERNAL_PORT: '0',
    HERALD_JWT_SECRET: TEST_SECRET,
    HERALD_JWT_ISSUER: TEST_ISSUER,
    HERALD_JWT_AUDIENCE: TEST_AUDIENCE,
    HERALD_ALLOWED_ORIGINS: 'https://app.example.com',
    HERALD_DRAIN_DELAY_S: '0',
    HERALD_DRAIN_WINDOW_S: '0',
    HERALD_UNSUBSCRIBE_DELAY_MS: '0',
    HERALD_LOG_LEVEL: 'info',
    ...opts.env,
  });
  const logs = new Lines();
  const log = createLogger(config.logLevel, 'edge', logs);
  const bus = await NatsBus.connect(config.nats, log);
  const edge = createEdge(config, { bus, log, ...(opts.routes ? { routes: opts.routes } : {}) });
  await startEdge(edge);
  const shutdown = makeShutdown(edge, { exit: () => undefined });
  return { edge, port: edge.port, url: `http://127.0.0.1:${edge.port}`, logs, stop: () => shutdown('test') };
}

/** NATS with the HERALD stream (created the way the publisher does) and a JetStream publisher. */
export class Stack {
  private n = 0;
  private constructor(
    readonly nats: NatsServer,
    readonly nc: NatsConnection,
    readonly prefix: string,
    readonly stream: string,
  ) {}

  static async start(): Promise<Stack> {
    const nats = await NatsServer.start({ jetstream: true });
    const prefix = uniquePrefix();
    const stream = `S_${prefix}`;
    const nc = await connect({ servers: nats.url });
    await ensureStream(await jetstreamManager(nc), { name: stream, prefix, maxAgeS: 600, maxBytes: 64 * 1024 * 1024 });
    return new Stack(nats, nc, prefix, stream);
  }

  edge(opts: Parameters<typeof startTestEdge>[2] = {}): Promise<RunningEdge> {
    return startTestEdge(this.nats.url, this.prefix, { stream: this.stream, ...opts });
  }

  /** Store one notification in the stream (republished live to edges); resolves with its sequence. */
  async publish(tenant: string, room: Room, data: Record<string, unknown> = {}, event = 'test.event'): Promise<number> {
    const body: StoredNotification = { type: 'notification', id: `n${++this.n}`, room: formatRoom(room), event, data, ts: Date.now() };
    const ack = await jetstream(this.nc).publish(roomSubject(this.prefix, 'n', tenant, room), JSON.stringify(body));
    return ack.seq;
  }

  async close(): Promise<void> {
    await this.nc.drain().catch(() => undefined);
    await this.nats.dispose();
  }
}

/** `ws` as the WebSocket constructor (Node 20 has no global WebSocket), recording every frame the client sends. */
export function recordingWebSocket(sent: string[]): WebSocketConstructor {
  return class extends WS {
    override send(data: string): void {
      sent.push(data);
      super.send(data);
    }
  } as unknown as WebSocketConstructor;
}

export const NodeWebSocket = WS as unknown as WebSocketConstructor;

/** A client plus everything it emitted, for assertions. */
export interface Observed {
  readonly client: HeraldClient;
  readonly events: { [K in keyof HeraldEvents]: Array<HeraldEvents[K]> };
}

export function observe(opts: HeraldClientOptions): Observed {
  const events: Observed['events'] = { notification: [], connected: [], disconnected: [], gap: [], error: [], state: [] };
  const client = new HeraldClient({ ...opts, autoConnect: false });
  for (const k of Object.keys(events) as Array<keyof HeraldEvents>) {
    client.on(k, (p) => (events[k] as unknown[]).push(p));
  }
  if (opts.autoConnect ?? true) client.connect();
  return { client, events };
}

export function tokenFor(claims: ClientClaims, expiresIn = 3600): () => Promise<string> {
  return () => mintToken(claims, { expiresIn });
}

export { freePort };
