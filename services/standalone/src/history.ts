import { SEQ_HEADER, type Bus, type EdgeDeps } from '@herald/edge';
import type { PublishBus, PublishRequest, Stored } from '@herald/publisher';
import { toSpace, type StoredNotification } from '@herald/protocol';

/** The edge's resume interface (services/edge/src/resume.ts), taken from EdgeDeps so the two cannot drift. */
export type History = NonNullable<EdgeDeps['history']>;
type ReplayPlan = Awaited<ReturnType<History['replay']>>;
type HistoryMessage = ReplayPlan extends { messages: AsyncIterable<infer M> } ? M : never;

export interface RingOptions {
  /** Subject prefix (HERALD_SUBJECT_PREFIX). */
  readonly prefix: string;
  /** Oldest message kept (HERALD_STREAM_MAX_AGE_S). */
  readonly maxAgeS: number;
  /** Total size kept (HERALD_STREAM_MAX_BYTES). */
  readonly maxBytes: number;
  /** Most messages kept. */
  readonly maxMsgs: number;
  /** Idempotency keys are remembered this long (HERALD_STREAM_DUPLICATE_WINDOW_S). */
  readonly duplicateWindowS: number;
  /** Clock, ms (tests). */
  readonly now?: () => number;
}

interface Entry {
  readonly seq: number;
  /** Subject in the `n` space, as published. */
  readonly subject: string;
  readonly live: string;
  readonly body: string;
  readonly at: number;
  /** Per-message TTL (ttl_s), ms since the epoch; Infinity when none. */
  readonly expires: number;
}

const encoder = new TextEncoder();

/**
 * The standalone stand-in for the JetStream stream HERALD: assigns stream sequences,
 * keeps recent messages in a ring bounded by age, bytes and count, de-duplicates
 * idempotency keys within the window, and "republishes" every stored message from the
 * `n` space to the `live` space with a `Nats-Sequence` header, so the edge runs exactly
 * the code path it runs on NATS. It is also the edge's History for resume.
 */
export class MemoryHistory implements History {
  private readonly entries: Entry[] = [];
  private head = 0;
  private lastSeq = 0;
  private bytes = 0;
  private readonly ids = new Map<string, { seq: number; at: number }>();
  private readonly now: () => number;

  constructor(
    private readonly bus: Bus,
    private readonly opts: RingOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Store one message (subject in the `n` space); resolves once stored and handed to the bus. */
  async store(subject: string, body: string, opts: { msgId?: string; ttlS?: number; headers?: ReadonlyMap<string, string> } = {}): Promise<Stored> {
    const now = this.now();
    this.evict(now);
    if (opts.msgId !== undefined) {
      const seen = this.ids.get(opts.msgId);
      if (seen && now - seen.at < this.opts.duplicateWindowS * 1000) return { seq: seen.seq, duplicate: true };
    }
    const seq = ++this.lastSeq;
    const live = toSpace(this.opts.prefix, subject, 'live');
    this.entries.push({ seq, subject, live, body, at: now, expires: opts.ttlS === undefined ? Infinity : now + opts.ttlS * 1000 });
    this.bytes += body.length + subject.length;
    if (opts.msgId !== undefined) this.ids.set(opts.msgId, { seq, at: now });
    this.evict(now);
    const headers: Record<string, string> = {};
    if (opts.headers) for (const [k, v] of opts.headers) headers[k] = v;
    headers[SEQ_HEADER] = String(seq);
    await this.bus.publish(live, encoder.encode(body), headers);
    return { seq, duplicate: false };
  }

  /** The stored notification at `seq`, if still held. */
  stored(seq: number): StoredNotification | undefined {
    const e = this.at(seq);
    return e && e.expires > this.now() ? (JSON.parse(e.body) as StoredNotification) : undefined;
  }

  get size(): number {
    return this.entries.length - this.head;
  }

  async bounds(): Promise<{ first: number; last: number }> {
    this.evict(this.now());
    const first = this.entries[this.head]?.seq ?? this.lastSeq + 1;
    return { first, last: this.lastSeq };
  }

  /** Messages on `subjects` with `fromSeq` < seq ≤ `toSeq` (default: everything stored), or overflow past `max`. */
  async replay(subjects: readonly string[], fromSeq: number, max: number, toSeq = Infinity): Promise<ReplayPlan> {
    const now = this.now();
    this.evict(now);
    const want = new Set(subjects);
    const picked: Entry[] = [];
    const firstSeq = this.entries[this.head]?.seq;
    const start = firstSeq === undefined ? this.entries.length : this.head + Math.max(0, fromSeq + 1 - firstSeq);
    for (let i = start; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (e.seq > toSeq) break;
      if (want.has(e.live) && e.expires > now) picked.push(e);
    }
    if (picked.length > max) return { kind: 'overflow', pending: picked.length };
    async function* read(): AsyncGenerator<HistoryMessage> {
      for (const e of picked) {
        const text = withSeq(e.body, e.seq);
        if (text !== undefined) yield { subject: e.live, seq: e.seq, text } as HistoryMessage;
      }
    }
    return { kind: 'messages', count: picked.length, messages: read() };
  }

  private at(seq: number): Entry | undefined {
    const first = this.entries[this.head]?.seq;
    if (first === undefined || seq < first) return undefined;
    return this.entries[this.head + (seq - first)];
  }

  /** Drop from the front by age, size and count; forget idempotency keys past the window. */
  private evict(now: number): void {
    const { maxAgeS, maxBytes, maxMsgs } = this.opts;
    while (this.head < this.entries.length) {
      const e = this.entries[this.head]!;
      const tooOld = now - e.at > maxAgeS * 1000;
      if (!tooOld && this.bytes <= maxBytes && this.size <= maxMsgs) break;
      this.bytes -= e.body.length + e.subject.length;
      this.head++;
    }
    // Compact now and then rather than shifting on every eviction.
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
    if (this.ids.size > 0) {
      const windowMs = this.opts.duplicateWindowS * 1000;
      for (const [k, v] of this.ids) {
        if (now - v.at < windowMs) break; // insertion order = time order
        this.ids.delete(k);
      }
    }
  }
}

/** Stored body → client text with `seq` appended, as the edge does for live delivery. */
function withSeq(body: string, seq: number): string | undefined {
  if (!body.startsWith('{"type":"notification"') || !body.endsWith('}')) return undefined;
  return `${body.slice(0, -1)},"seq":${seq}}`;
}

/** The publisher's storage in standalone mode: the ring above instead of JetStream. */
export class MemoryPublishBus implements PublishBus {
  private open = false;

  constructor(private readonly history: MemoryHistory) {}

  get ready(): boolean {
    return this.open;
  }

  async start(): Promise<void> {
    this.open = true;
  }

  async publish(req: PublishRequest): Promise<Stored> {
    return this.history.store(req.subject, req.body, {
      ...(req.msgId !== undefined ? { msgId: req.msgId } : {}),
      ...(req.ttlS !== undefined ? { ttlS: req.ttlS } : {}),
      ...(req.headers ? { headers: req.headers } : {}),
    });
  }

  async stored(seq: number): Promise<StoredNotification | undefined> {
    return this.history.stored(seq);
  }

  async close(): Promise<void> {
    this.open = false;
  }
}
