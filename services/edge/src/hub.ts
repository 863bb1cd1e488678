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

export interface HubHooks {
  /** After a bus message was handed to this pod's sockets (tracing). */
  delivered?: (m: BusMessage, recipients: number) => void;
  /** Tenant of a room subject, for per-tenant series (only when HERALD_TENANT_METRICS is on). */
  tenantOf?: (subject: string) => string | undefined;
}

const decoder = new TextDecoder();
const ENVELOPE_START = '{"type":"notification"';

export type Tap = (text: string, seq: number | undefined) => void;

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
  /** Per-subject listeners besides the fan-out: connections that are resuming buffer here. */
  private readonly taps = new Map<string, Set<Tap>>();
  /** While NATS is away (and until the replay after it), bus messages wait here. */
  private held: BusMessage[] | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly fanout: Fanout,
    private readonly metrics: EdgeMetrics,
    private readonly log: Logger,
    private readonly unsubscribeDelayMs: number,
    private readonly hooks: HubHooks = {},
  ) {}

  /** One handler for every subject (a closure per subject would cost memory per room). */
  private readonly onBusMessage = (m: BusMessage): void => this.deliver(m);

  /** The highest stream sequence delivered by this pod (for replay after a NATS outage). */
  get lastDeliveredSeq(): number {
    return this.lastSeq;
  }

  /** Raise the delivered-sequence mark without delivering (the stream's end at start-up). */
  noteSeq(seq: number): void {
    if (seq > this.lastSeq) this.lastSeq = seq;
  }

  /** Subjects with local members. */
  subjects(): string[] {
    const out: string[] = [];
    for (const [s, e] of this.entries) if (e.members > 0) out.push(s);
    return out;
  }

  /** Listen to every message on `subjects` (after the fan-out) until the returned function is called. */
  tap(subjects: readonly string[], fn: Tap): () => void {
    for (const s of subjects) {
      let set = this.taps.get(s);
      if (!set) this.taps.set(s, (set = new Set()));
      set.add(fn);
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      for (const s of subjects) {
        const set = this.taps.get(s);
        if (!set) continue;
        set.delete(fn);
        if (set.size === 0) this.taps.delete(s);
      }
    };
  }

  /** Hold bus messages instead of delivering them (NATS outage; see OutageRecovery). */
  hold(): void {
    this.held ??= [];
  }

  /** Deliver a replayed message as if it came from the bus, even while holding. */
  inject(subject: string, text: string, seq: number): void {
    if (seq <= this.lastSeq) return;
    this.fanoutText(subject, text, seq);
  }

  /**
   * Stop holding: deliver what was held in order, skipping sequences already
   * delivered (replayed), or everything up to `dropUpTo`.
   */
  release(dropUpTo?: number): void {
    const held = this.held;
    this.held = undefined;
    if (!held) return;
    for (const m of held) {
      if (m.seq !== undefined && m.seq <= (dropUpTo ?? this.lastSeq)) continue;
      this.deliver(m);
    }
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
      e.sub = this.bus.subscribe(subject, this.onBusMessage);
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
    if (this.held) {
      this.held.push(m);
      return;
    }
    const body = decoder.decode(m.data);
    // The publisher stores a complete envelope without `seq`; anything else is not ours.
    if (!body.startsWith(ENVELOPE_START) || body.charCodeAt(body.length - 1) !== 125 /* } */) {
      this.metrics.dropped.inc({ reason: 'malformed' });
      this.log.warn({ subject: m.subject, bytes: m.data.length }, 'dropped a malformed bus message');
      return;
    }
    const text = m.seq === undefined ? body : `${body.slice(0, -1)},"seq":${m.seq}}`;
    const recipients = this.fanoutText(m.subject, text, m.seq);
    this.hooks.delivered?.(m, recipients);
  }

  /** Hand one envelope to the transports and taps; returns how many sockets it reached. */
  private fanoutText(subject: string, text: string, seq: number | undefined): number {
    if (seq !== undefined && seq > this.lastSeq) this.lastSeq = seq;
    const ws = this.fanout.publishWs(subject, text);
    const sse = this.fanout.publishSse(subject, text, seq);
    if (ws) this.metrics.delivered.inc({ transport: 'ws' }, ws);
    if (sse) this.metrics.delivered.inc({ transport: 'sse' }, sse);
    const tenants = this.metrics.tenant;
    if (tenants && ws + sse > 0) {
      const tenant = this.hooks.tenantOf?.(subject);
      if (tenant) tenants.delivered.inc({ tenant: tenants.label(tenant) }, ws + sse);
    }
    const taps = this.taps.get(subject);
    if (taps) for (const t of taps) t(text, seq);
    if (ws + sse === 0 && !taps) {
      this.metrics.dropped.inc({ reason: 'no_members' });
      return 0;
    }
    const ts = publishTime(text);
    if (ts !== undefined) this.metrics.latency.observe(Math.max(0, Date.now() - ts) / 1000);
    return ws + sse;
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
