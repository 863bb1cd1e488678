import type { Bus, BusMessage, BusSubscription } from './bus/bus.js';
import type { EdgeMetrics } from './metrics.js';
import type { Logger } from './logger.js';

/** Where a hub hands a finished envelope: WS fan-out (uWS topics) and SSE members. */
export interface Fanout {
  /** Send `text` to every WebSocket member of `subject`; returns how many sockets it reached. */
  publishWs(subject: string, text: string): number;
  /** Send to every SSE member of `subject`; returns how many. */
  publishSse(subject: string, text: string, seq: number | undefined): number;
}

interface Entry {
  members: number;
  sub: BusSubscription | undefined;
  unsubTimer: NodeJS.Timeout | undefined;
}

const decoder = new TextDecoder();
const ENVELOPE_START = '{"type":"notification"';

/**
 * Room membership per pod. Holds one bus subscription per subject that has local
 * members, reference-counted; the unsubscribe after the last member leaves waits
 * `unsubscribeDelayMs` so reconnect churn does not thrash NATS (centrifuge's node.go
 * does the same). Each bus message is turned into client bytes once and handed to
 * the fan-out once: the per-socket loop is uWS's, in C++.
 */
export class Hub {
  private readonly entries = new Map<string, Entry>();
  private lastSeq = 0;

  constructor(
    private readonly bus: Bus,
    private readonly fanout: Fanout,
    private readonly metrics: EdgeMetrics,
    private readonly log: Logger,
    private readonly unsubscribeDelayMs: number,
  ) {}

  /** The highest stream sequence delivered by this pod (for replay after a NATS outage). */
  get lastDeliveredSeq(): number {
    return this.lastSeq;
  }

  join(subject: string): void {
    let e = this.entries.get(subject);
    if (!e) {
      e = { members: 0, sub: undefined, unsubTimer: undefined };
      this.entries.set(subject, e);
    }
    e.members++;
    if (e.unsubTimer) {
      clearTimeout(e.unsubTimer);
      e.unsubTimer = undefined;
    }
    if (!e.sub) {
      e.sub = this.bus.subscribe(subject, (m) => this.deliver(m));
      this.metrics.natsSubscriptions.inc();
    }
  }

  leave(subject: string): void {
    const e = this.entries.get(subject);
    if (!e || e.members === 0) return;
    e.members--;
    if (e.members > 0) return;
    const release = () => {
      e.unsubTimer = undefined;
      if (e.members > 0) return;
      e.sub?.unsubscribe();
      e.sub = undefined;
      this.entries.delete(subject);
      this.metrics.natsSubscriptions.dec();
    };
    if (this.unsubscribeDelayMs === 0) release();
    else e.unsubTimer = setTimeout(release, this.unsubscribeDelayMs);
  }

  members(subject: string): number {
    return this.entries.get(subject)?.members ?? 0;
  }

  /** Subjects with a live bus subscription (including those waiting out the unsubscribe delay). */
  get subscriptionCount(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.sub) n++;
    return n;
  }

  private deliver(m: BusMessage): void {
    const body = decoder.decode(m.data);
    // The publisher stores a complete envelope without `seq`; anything else is not ours.
    if (!body.startsWith(ENVELOPE_START) || body.charCodeAt(body.length - 1) !== 125 /* } */) {
      this.metrics.dropped.inc({ reason: 'malformed' });
      this.log.warn({ subject: m.subject, bytes: m.data.length }, 'dropped a malformed bus message');
      return;
    }
    const text = m.seq === undefined ? body : `${body.slice(0, -1)},"seq":${m.seq}}`;
    if (m.seq !== undefined && m.seq > this.lastSeq) this.lastSeq = m.seq;
    const ws = this.fanout.publishWs(m.subject, text);
    const sse = this.fanout.publishSse(m.subject, text, m.seq);
    if (ws) this.metrics.delivered.inc({ transport: 'ws' }, ws);
    if (sse) this.metrics.delivered.inc({ transport: 'sse' }, sse);
    if (ws + sse === 0) {
      this.metrics.dropped.inc({ reason: 'no_members' });
      return;
    }
    const ts = publishTime(body);
    if (ts !== undefined) this.metrics.latency.observe(Math.max(0, Date.now() - ts) / 1000);
  }

  /** Cancel pending unsubscribes and drop every subscription (shutdown). */
  close(): void {
    for (const e of this.entries.values()) {
      if (e.unsubTimer) clearTimeout(e.unsubTimer);
      e.sub?.unsubscribe();
    }
    this.entries.clear();
    this.metrics.natsSubscriptions.set(0);
  }
}

/** `ts` of a stored envelope without a full JSON parse: it follows `data`, near the end. */
export function publishTime(body: string): number | undefined {
  const i = body.lastIndexOf('"ts":');
  if (i < 0) return undefined;
  const n = Number.parseInt(body.slice(i + 5, i + 25), 10);
  return Number.isFinite(n) ? n : undefined;
}
