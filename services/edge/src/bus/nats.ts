import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, headers as natsHeaders, type ConnectionOptions, type NatsConnection, type Msg } from '@nats-io/transport-node';
import type { NatsSettings } from '../config.js';
import type { Logger } from '../logger.js';
import type { Bus, BusHandler, BusStatus, BusSubscription } from './bus.js';
import { SEQ_HEADER } from './bus.js';

/** nats.js connection options from Herald's settings (auth, TLS, unlimited reconnects with jitter). */
export function natsOptions(s: NatsSettings, servers: string): ConnectionOptions {
  const opts: ConnectionOptions = {
    servers: servers.split(',').map((x) => x.trim()),
    name: s.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    reconnectJitter: 500,
    pingInterval: 10_000,
    maxPingOut: 3,
    waitOnFirstConnect: true,
  };
  if (s.token) opts.token = s.token;
  if (s.user) {
    opts.user = s.user;
    if (s.password) opts.pass = s.password;
  }
  if (s.credsFile) opts.authenticator = credsAuthenticator(readFileSync(s.credsFile));
  if (s.tlsCaFile || s.tlsCertFile) {
    opts.tls = {
      ...(s.tlsCaFile ? { caFile: s.tlsCaFile } : {}),
      ...(s.tlsCertFile ? { certFile: s.tlsCertFile } : {}),
      ...(s.tlsKeyFile ? { keyFile: s.tlsKeyFile } : {}),
    };
  }
  return opts;
}

/**
 * Core NATS subscriptions, one per subject asked for. The edge reads the
 * JetStream-republished copy of each notification, whose `Nats-Sequence` header is
 * the stream sequence, the client's resume cursor.
 */
export class NatsBus implements Bus {
  readonly kind = 'nats' as const;
  private readonly listeners: Array<(s: BusStatus) => void> = [];
  private connected = true;
  private readonly callbacks = new WeakMap<BusHandler, (err: Error | null, m: Msg) => void>();

  private constructor(
    readonly nc: NatsConnection,
    private readonly log: Logger,
  ) {
    void this.watch();
    void nc.closed().then(() => this.emit('closed'));
  }

  static async connect(settings: NatsSettings, log: Logger): Promise<NatsBus> {
    if (!settings.url) throw new Error('NATS url not configured');
    const nc = await connect(natsOptions(settings, settings.url));
    log.info({ server: nc.getServer() }, 'connected to NATS');
    return new NatsBus(nc, log);
  }

  private async watch(): Promise<void> {
    for await (const s of this.nc.status()) {
      switch (s.type) {
        case 'disconnect':
          this.log.warn({ server: s.server }, 'NATS disconnected');
          this.emit('disconnected');
          break;
        case 'reconnect':
          this.log.info({ server: s.server }, 'NATS reconnected');
          this.emit('connected');
          break;
        case 'error':
          // Permission violations and similar: the text is for operators, never clients.
          this.log.error({ err: String(s.error) }, 'NATS error');
          break;
        default:
          break;
      }
    }
  }

  private emit(status: BusStatus): void {
    this.connected = status === 'connected';
    for (const l of this.listeners) l(status);
  }

  isConnected(): boolean {
    return this.connected && !this.nc.isClosed();
  }

  onStatus(listener: (status: BusStatus) => void): void {
    this.listeners.push(listener);
  }

  subscribe(subject: string, handler: BusHandler): BusSubscription {
    // nats.js Subscriptions already have unsubscribe(); no wrapper object per subject.
    return this.nc.subscribe(subject, { callback: this.callbackFor(handler) });
  }

  /** One nats.js callback per handler, shared by all its subjects (the hub has one handler for thousands). */
  private callbackFor(handler: BusHandler): (err: Error | null, m: Msg) => void {
    let cb = this.callbacks.get(handler);
    if (cb) return cb;
    cb = (err, m) => {
      if (err) {
        this.log.error({ err: String(err), subject: m?.subject }, 'NATS subscription error');
        return;
      }
      const h = m.headers;
      let seq: number | undefined;
      let map: Map<string, string> | undefined;
      if (h) {
        map = new Map();
        for (const [k, v] of h) if (v[0] !== undefined) map.set(k, v[0]);
        const s = h.get(SEQ_HEADER);
        if (s) seq = Number(s);
      }
      handler({ subject: m.subject, data: m.data, seq, headers: map });
    };
    this.callbacks.set(handler, cb);
    return cb;
  }

  async publish(subject: string, data: Uint8Array, headers?: Readonly<Record<string, string>>): Promise<void> {
    if (headers) {
      const h = natsHeaders();
      for (const [k, v] of Object.entries(headers)) h.set(k, v);
      this.nc.publish(subject, data, { headers: h });
    } else {
      this.nc.publish(subject, data);
    }
  }

  flush(): Promise<void> {
    return this.nc.flush();
  }

  async drain(): Promise<void> {
    if (this.nc.isClosed() || this.nc.isDraining()) return this.nc.closed().then(() => undefined);
    await this.nc.drain();
  }
}
