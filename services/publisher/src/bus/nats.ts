import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import {
  connect,
  credsAuthenticator,
  headers as natsHeaders,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import { readFileSync } from 'node:fs';
import type { StoredNotification } from '@herald/protocol';
import type { PublisherConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { PublisherMetrics } from '../metrics.js';
import { ensureStream } from '../stream.js';
import { AckError, AckMux } from './acks.js';
import { UnavailableError, type PublishBus, type PublishRequest, type Stored } from './bus.js';

export function natsConnectOptions(config: PublisherConfig): NodeConnectionOptions {
  const n = config.nats;
  const opts: NodeConnectionOptions = {
    servers: n.url.split(',').map((s) => s.trim()),
    name: 'herald-publisher',
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    reconnectJitter: 250,
    waitOnFirstConnect: true,
    pingInterval: 10_000,
    // No async stack capture per request: a PubAck wait is on the hot path, and our errors are mapped anyway.
    noAsyncTraces: true,
  };
  if (n.token) opts.token = n.token;
  if (n.user) {
    opts.user = n.user;
    opts.pass = n.password;
  }
  if (n.credsFile) opts.authenticator = credsAuthenticator(readFileSync(n.credsFile));
  if (n.tlsCaFile) opts.tls = { caFile: n.tlsCaFile };
  return opts;
}

/**
 * The publisher's JetStream side. Tracks connection state so that requests fail fast
 * with 503 while NATS is away (nats.js would otherwise buffer), and re-ensures the
 * stream after each reconnect (a wiped server gets its stream back).
 */
export class NatsBus implements PublishBus {
  private nc: NatsConnection | undefined;
  private acks: AckMux | undefined;
  private jsm: JetStreamManager | undefined;
  private connected = false;
  private streamReady = false;
  private closing = false;
  private started: Promise<void> | undefined;
  private readyWaiters: Array<() => void> = [];

  constructor(
    private readonly config: PublisherConfig,
    private readonly log: Logger,
    private readonly metrics: PublisherMetrics,
  ) {}

  get ready(): boolean {
    return this.connected && this.streamReady && !this.closing;
  }

  /** Connect in the background (retrying forever); resolves once connected and the stream ensured. */
  start(): Promise<void> {
    this.started ??= this.run().catch((err: unknown) => this.log.error({ err }, 'NATS start failed; publisher stays unready'));
    return this.whenReady();
  }

  whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((r) => this.readyWaiters.push(r));
  }

  private async run(): Promise<void> {
    let nc: NatsConnection | undefined;
    // nats.js retries unreachable servers itself; an authorization error ends connect(), so retry that here.
    for (let delay = 500; !nc; delay = Math.min(delay * 2, 10_000)) {
      if (this.closing) return;
      try {
        nc = await connect(natsConnectOptions(this.config));
      } catch (err) {
        this.log.error({ err: { name: (err as Error).name, message: (err as Error).message } }, 'cannot connect to NATS; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    if (this.closing) {
      await nc.close();
      return;
    }
    this.nc = nc;
    this.acks = new AckMux(nc, this.config.publishTimeoutMs);
    // checkAPI off: a server without JetStream must not crash start-up; ensure() retries and logs.
    this.jsm = await jetstreamManager(nc, { timeout: this.config.publishTimeoutMs, checkAPI: false });
    this.setConnected(true);
    this.log.info({ server: nc.getServer() }, 'connected to NATS');
    void this.watchStatus(nc);
    await this.ensure();
  }

  private ensuring: Promise<void> | undefined;

  /** Ensure the stream, retrying while connected; concurrent callers share one attempt. */
  private ensure(): Promise<void> {
    this.ensuring ??= this.ensureLoop().finally(() => (this.ensuring = undefined));
    return this.ensuring;
  }

  private async ensureLoop(): Promise<void> {
    for (let delay = 250; !this.closing && this.connected; delay = Math.min(delay * 2, 5_000)) {
      try {
        const r = await ensureStream(this.jsm!, this.config);
        this.log.info({ stream: this.config.stream.name, action: r.action }, 'stream ensured');
        this.streamReady = true;
        this.updateReady();
        return;
      } catch (err) {
        this.log.error({ err, stream: this.config.stream.name }, 'cannot ensure stream; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      switch (s.type) {
        case 'disconnect':
          this.log.warn('NATS disconnected');
          this.setConnected(false);
          break;
        case 'reconnect':
          this.log.info({ server: nc.getServer() }, 'NATS reconnected');
          this.setConnected(true);
          void this.ensure();
          break;
        default:
          break;
      }
    }
  }

  private setConnected(v: boolean): void {
    this.connected = v;
    if (!v) this.streamReady = false;
    this.metrics.natsConnected.set(v ? 1 : 0);
    this.updateReady();
  }

  private updateReady(): void {
    this.metrics.ready.set(this.ready ? 1 : 0);
    if (this.ready) for (const w of this.readyWaiters.splice(0)) w();
  }

  /** Store one message; resolves only on a PubAck (so a 202 always means stored). */
  async publish(req: PublishRequest): Promise<Stored> {
    if (!this.ready || !this.acks) throw new UnavailableError('not connected');
    const h = natsHeaders();
    if (req.headers) for (const [k, v] of req.headers) h.set(k, v);
    if (req.msgId !== undefined) h.set('Nats-Msg-Id', req.msgId);
    if (req.ttlS !== undefined) h.set('Nats-TTL', `${req.ttlS}s`);
    const started = performance.now();
    try {
      const ack = await this.acks.publish(req.subject, req.body, h);
      this.metrics.publishDuration.observe((performance.now() - started) / 1000);
      return { seq: ack.seq!, duplicate: ack.duplicate === true };
    } catch (err) {
      if (err instanceof AckError && err.kind === 'no_responders' && this.streamReady) {
        // Nobody stores this subject: the stream was deleted under us. Unready, recreate it.
        this.log.error({ stream: this.config.stream.name }, 'stream missing; recreating');
        this.streamReady = false;
        this.updateReady();
        void this.ensure();
      }
      throw new UnavailableError('publish failed', { cause: err });
    }
  }

  /** The stored notification at `seq` (used to answer an idempotent retry with the original id). */
  async stored(seq: number): Promise<StoredNotification | undefined> {
    if (!this.jsm) throw new UnavailableError('not connected');
    try {
      const m = await this.jsm.direct.getMessage(this.config.stream.name, { seq });
      if (!m) return undefined;
      return JSON.parse(new TextDecoder().decode(m.data)) as StoredNotification;
    } catch (err) {
      throw new UnavailableError('direct get failed', { cause: err });
    }
  }

  /** The raw connection, for tests and for an embedding process. */
  get connection(): NatsConnection | undefined {
    return this.nc;
  }

  /** Stop accepting, flush and drain (in-flight PubAcks complete). Idempotent. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.updateReady();
    for (const w of this.readyWaiters.splice(0)) w();
    const nc = this.nc;
    this.acks?.close();
    if (nc && !nc.isClosed()) {
      try {
        await nc.drain();
      } catch {
        await nc.close().catch(() => undefined);
      }
    }
  }
}
