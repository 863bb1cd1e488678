import { createInbox, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';

export interface PubAckBody {
  stream?: string;
  seq?: number;
  duplicate?: boolean;
  error?: { code?: number; err_code?: number; description?: string };
}

export class AckError extends Error {
  constructor(
    readonly kind: 'timeout' | 'no_responders' | 'closed' | 'rejected',
    message: string,
  ) {
    super(message);
    this.name = 'AckError';
  }
}

interface Pending {
  resolve(ack: PubAckBody): void;
  reject(err: Error): void;
  deadline: number;
}

/**
 * JetStream publish with PubAcks collected on one wildcard inbox subscription. Same wire
 * protocol as nats.js `js.publish` (publish with a reply subject, JSON PubAck back), but
 * without a timer and two Error objects (with stack traces) per message, which were the
 * largest cost in the publisher's profile. Deadlines are swept every `sweepMs`.
 */
export class AckMux {
  private readonly pending = new Map<string, Pending>();
  private readonly prefix: string;
  private readonly sub: Subscription;
  private readonly timer: NodeJS.Timeout;
  private next = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
    inboxPrefix?: string,
  ) {
    this.prefix = `${createInbox(inboxPrefix)}.`;
    this.sub = nc.subscribe(`${this.prefix}*`, { callback: (_err, m) => this.onReply(m.subject, m.headers, m.data) });
    this.timer = setInterval(() => this.expire(), Math.min(250, Math.max(10, Math.floor(timeoutMs / 4))));
    this.timer.unref();
  }

  /** Publish `body` to `subject` and resolve with the stream's PubAck. */
  publish(subject: string, body: string, headers: MsgHdrs): Promise<PubAckBody> {
    const token = (this.next++).toString(36);
    return new Promise<PubAckBody>((resolve, reject) => {
      this.pending.set(token, { resolve, reject, deadline: Date.now() + this.timeoutMs });
      try {
        this.nc.publish(subject, body, { reply: this.prefix + token, headers });
      } catch (err) {
        this.pending.delete(token);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  get inFlight(): number {
    return this.pending.size;
  }

  private onReply(subject: string, headers: MsgHdrs | undefined, data: Uint8Array): void {
    const token = subject.slice(this.prefix.length);
    const p = this.pending.get(token);
    if (!p) return; // late reply after a timeout
    this.pending.delete(token);
    if (data.length === 0 && headers?.code === 503) {
      p.reject(new AckError('no_responders', 'no stream listens on the subject'));
      return;
    }
    let ack: PubAckBody;
    try {
      ack = JSON.parse(new TextDecoder().decode(data)) as PubAckBody;
    } catch {
      p.reject(new AckError('rejected', 'unparseable PubAck'));
      return;
    }
    if (ack.error || typeof ack.seq !== 'number' || !ack.stream) {
      p.reject(new AckError('rejected', ack.error?.description ?? 'invalid PubAck'));
      return;
    }
    p.resolve(ack);
  }

  private expire(): void {
    const now = Date.now();
    // Insertion order is deadline order (one timeout for all), so stop at the first live one.
    for (const [token, p] of this.pending) {
      if (p.deadline > now) break;
      this.pending.delete(token);
      p.reject(new AckError('timeout', 'no PubAck in time'));
    }
  }

  /** Fail everything in flight and stop listening. */
  close(): void {
    clearInterval(this.timer);
    for (const p of this.pending.values()) p.reject(new AckError('closed', 'connection closing'));
    this.pending.clear();
    this.sub.unsubscribe();
  }
}
