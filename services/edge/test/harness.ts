import { Writable } from 'node:stream';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, jetstream, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { roomSubject, spaceWildcard, type Room, type StoredNotification } from '@herald/protocol';
import { NatsServer, TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET, TestClient, mintToken, uniquePrefix } from '@herald/testkit';
import { createLogger } from '../src/logger.js';
import { loadConfig } from '../src/config.js';
import { NatsBus } from '../src/bus/nats.js';
import { MemoryBus } from '../src/bus/memory.js';
import type { Bus } from '../src/bus/bus.js';
import { createEdge, startEdge, type Edge } from '../src/server.js';
import { makeShutdown } from '../src/lifecycle.js';

/** Log lines captured from an in-process edge. */
export class LogCapture extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    for (const l of chunk.toString().split('\n')) if (l) this.lines.push(JSON.parse(l) as Record<string, unknown>);
    cb();
  }
  security(kind?: string): Array<Record<string, unknown>> {
    return this.lines.filter((l) => l.event === 'security' && (!kind || l.kind === kind));
  }
  get text(): string {
    return this.lines.map((l) => JSON.stringify(l)).join('\n');
  }
}

export function baseEnv(natsUrl: string | undefined, prefix: string): Record<string, string> {
  return {
    ...(natsUrl ? { HERALD_NATS_URL: natsUrl } : {}),
    HERALD_SUBJECT_PREFIX: prefix,
    HERALD_HOST: '127.0.0.1',
    HERALD_PORT: '0',
    HERALD_INTERNAL_PORT: '0',
    HERALD_JWT_SECRET: TEST_SECRET,
    HERALD_JWT_ISSUER: TEST_ISSUER,
    HERALD_JWT_AUDIENCE: TEST_AUDIENCE,
    HERALD_ALLOWED_ORIGINS: 'https://app.example.com',
    HERALD_DRAIN_DELAY_S: '0',
    HERALD_DRAIN_WINDOW_S: '1',
    HERALD_UNSUBSCRIBE_DELAY_MS: '0',
    HERALD_LOG_LEVEL: 'info',
  };
}

export interface TestEdge {
  edge: Edge;
  logs: LogCapture;
  url: string;
  wsUrl: string;
  internalUrl: string;
  prefix: string;
  shutdown: (reason: string) => Promise<void>;
  exitCode: number | undefined;
  close(): Promise<void>;
}

/** An edge in this process on free ports, on a real NATS (or the memory bus when natsUrl is undefined). */
export async function startTestEdge(natsUrl: string | undefined, env: Record<string, string> = {}, opts: { prefix?: string; bus?: Bus } = {}): Promise<TestEdge> {
  const prefix = opts.prefix ?? uniquePrefix();
  const config = loadConfig({ ...baseEnv(natsUrl, prefix), ...env });
  const logs = new LogCapture();
  const log = createLogger(config.logLevel, 'edge', logs);
  const bus = opts.bus ?? (natsUrl ? await NatsBus.connect(config.nats, log) : new MemoryBus());
  const edge = createEdge(config, { bus, log });
  await startEdge(edge);
  const t: TestEdge = {
    edge,
    logs,
    prefix,
    url: `http://127.0.0.1:${edge.port}`,
    wsUrl: `ws://127.0.0.1:${edge.port}/ws`,
    internalUrl: `http://127.0.0.1:${edge.internalPort}`,
    exitCode: undefined,
    shutdown: makeShutdown(edge, { exit: (code) => (t.exitCode = code) }),
    async close() {
      // Fast teardown for tests: no drain delay or window.
      await t.shutdown('test teardown');
    },
  };
  return t;
}

/** Publishes notifications the way the publisher does: JetStream into `<prefix>.n.…`, republished to `.live.`. */
export class TestSource {
  private seqCounter = 0;
  private constructor(
    readonly nc: NatsConnection,
    readonly prefix: string,
  ) {}

  /**
   * `storage: 'file'` keeps the stream across a nats-server restart (outage tests);
   * `direct: false` turns off direct get (the publisher turns it on) so resume uses its consumer fallback.
   */
  static async create(server: NatsServer, prefix: string, opts: { storage?: 'memory' | 'file'; direct?: boolean } = {}): Promise<TestSource> {
    const nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: `S_${prefix}`,
      subjects: [spaceWildcard(prefix, 'n')],
      retention: RetentionPolicy.Limits,
      storage: opts.storage === 'file' ? StorageType.File : StorageType.Memory,
      max_age: 60 * 1e9,
      republish: { src: spaceWildcard(prefix, 'n'), dest: spaceWildcard(prefix, 'live') },
      allow_direct: opts.direct ?? true,
    });
    return new TestSource(nc, prefix);
  }

  /** Publish into the stream; resolves with the stream sequence. */
  async publish(tenant: string, room: Room, data: Record<string, unknown> = {}, event = 'test.event', opts: { msgID?: string; timeout?: number } = {}): Promise<number> {
    const body: StoredNotification = {
      type: 'notification',
      id: `n${++this.seqCounter}`,
      room: room.kind === 'user' ? `user:${room.id}` : room.kind === 'room' ? `room:${room.id}` : room.kind,
      event,
      data,
      ts: Date.now(),
    };
    const js = jetstream(this.nc);
    const ack = await js.publish(roomSubject(this.prefix, 'n', tenant, room), JSON.stringify(body), {
      ...(opts.msgID ? { msgID: opts.msgID } : {}),
      ...(opts.timeout ? { timeout: opts.timeout } : {}),
    });
    return ack.seq;
  }

  /** Core publish straight to a live subject (bypassing the stream), with optional headers. */
  publishLive(subject: string, body: string, hdrs?: Record<string, string>): void {
    if (!hdrs) return this.nc.publish(subject, body);
    const h = natsHeaders();
    for (const [k, v] of Object.entries(hdrs)) h.set(k, v);
    this.nc.publish(subject, body, { headers: h });
  }

  async close(): Promise<void> {
    await this.nc.drain();
  }
}

export async function metricValue(internalUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${internalUrl}/metrics`)).text();
  let total = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{([^}]*)\})? ([0-9.e+-]+|NaN)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const lbls = Object.fromEntries((m[3] ?? '').split(',').filter(Boolean).map((kv) => {
      const [k, v] = kv.split('=');
      return [k, v!.replace(/^"|"$/g, '')];
    }));
    if (Object.entries(labels).every(([k, v]) => lbls[k] === v)) {
      total += Number(m[4]);
      found = true;
    }
  }
  return found ? total : 0;
}

/**
 * A well-behaved connection beside the misbehaving ones: security rule 4 says no
 * refusal or limit on one connection disturbs another's delivery.
 */
export class Neighbour {
  private constructor(
    readonly client: TestClient,
    private readonly source: TestSource,
  ) {}

  static async start(edge: TestEdge, source: TestSource): Promise<Neighbour> {
    const client = new TestClient(edge.wsUrl);
    await client.auth(await mintToken({ sub: 'neighbour', tid: 'acme' }));
    return new Neighbour(client, source);
  }

  /** Publish to the neighbour and assert it arrives on a connection that stayed open. */
  async stillReceives(): Promise<void> {
    const before = this.client.notifications().length;
    await this.source.publish('acme', { kind: 'user', id: 'neighbour' }, { ping: before });
    await this.client.waitNotifications(before + 1);
    if (this.client.closeCode !== undefined) throw new Error(`neighbour was closed with ${this.client.closeCode}`);
  }

  close(): void {
    this.client.close();
  }
}
