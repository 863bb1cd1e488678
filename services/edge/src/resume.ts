import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { spaceWildcard, toSpace } from '@herald/protocol';
import type { Conn } from './gateway.js';
import type { Hub } from './hub.js';
import type { Logger } from './logger.js';
import type { EdgeMetrics } from './metrics.js';

/** One stored notification read back from history: client bytes (with `seq`) and its sequence. */
export interface HistoryMessage {
  /** Subject in the `live` space, as connections join it. */
  readonly subject: string;
  readonly seq: number;
  readonly text: string;
}

/** What history holds right now: the first and last stream sequence (first > last when empty). */
export interface HistoryBounds {
  readonly first: number;
  readonly last: number;
}

export type ReplayPlan =
  | { readonly kind: 'overflow'; readonly pending: number }
  | { readonly kind: 'messages'; readonly count: number; readonly messages: AsyncIterable<HistoryMessage> };

/**
 * Where resume reads missed notifications from. JetStream in production; the
 * standalone memory bus implements it with a ring. Subjects are given in the `live`
 * space (what connections join); the implementation maps them to wherever it stores.
 */
export interface History {
  bounds(): Promise<HistoryBounds>;
  /**
   * Messages on `subjects` with `fromSeq` < sequence ≤ `toSeq`, in sequence order, or
   * `overflow` when there are more than `max`.
   */
  replay(subjects: readonly string[], fromSeq: number, max: number, toSeq: number): Promise<ReplayPlan>;
  /**
   * Optional: every message with `fromSeq` < sequence ≤ `toSeq`, whatever its subject
   * (one sequential read; used after a NATS outage when a pod has many rooms).
   */
  scan?(fromSeq: number, max: number, toSeq: number): Promise<ReplayPlan>;
}

const decoder = new TextDecoder();
const ENVELOPE_START = '{"type":"notification"';

/** Stored body → client text with `seq` appended (the same bytes the hub makes for live delivery). */
export function withSeq(body: string, seq: number): string | undefined {
  if (!body.startsWith(ENVELOPE_START) || body.charCodeAt(body.length - 1) !== 125) return undefined;
  return `${body.slice(0, -1)},"seq":${seq}}`;
}

/**
 * History on the JetStream stream. A replay is one ephemeral, in-memory, ack-none
 * consumer filtered to exactly the connection's `<prefix>.n.…` subjects (multi-filter,
 * nats-server ≥ 2.10) starting at `fromSeq + 1`: the creation answer carries
 * `num_pending`, so the replay knows how many messages to read and when it is done,
 * and checks that sequences only increase (what an ordered consumer guarantees).
 */
export class JetStreamHistory implements History {
  private readonly js: JetStreamClient;
  private jsm: Promise<JetStreamManager>;
  private direct: boolean | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly stream: string,
    private readonly prefix: string,
    private readonly timeoutMs = 5_000,
  ) {
    this.js = jetstream(nc, { timeout: timeoutMs });
    this.jsm = jetstreamManager(nc, { timeout: timeoutMs, checkAPI: false });
  }

  async bounds(): Promise<HistoryBounds> {
    const jsm = await this.jsm;
    const info = await jsm.streams.info(this.stream);
    this.direct = info.config.allow_direct === true && supportsBatchDirectGet(this.nc.info?.version);
    return { first: info.state.first_seq, last: info.state.last_seq };
  }

  scan(fromSeq: number, max: number, toSeq: number): Promise<ReplayPlan> {
    return this.replay([spaceWildcard(this.prefix, 'live')], fromSeq, max, toSeq);
  }

  async replay(subjects: readonly string[], fromSeq: number, max: number, toSeq: number): Promise<ReplayPlan> {
    if (this.direct === undefined) await this.bounds();
    return this.direct ? this.replayDirect(subjects, fromSeq, max, toSeq) : this.replayConsumer(subjects, fromSeq, max, toSeq);
  }

  /**
   * Batched direct gets, one per subject (`next_by_subj`), merged by sequence. No
   * consumer is created, so a reconnect storm costs the server one request per room
   * rather than a consumer's life cycle. Read up to `toSeq` only: anything later
   * reaches the connection through its live buffer.
   */
  private async replayDirect(subjects: readonly string[], fromSeq: number, max: number, toSeq: number): Promise<ReplayPlan> {
    const jsm = await this.jsm;
    const perSubject = await Promise.all(
      subjects.map(async (live) => {
        const subject = toSpace(this.prefix, live, 'n');
        const wildcard = subject.endsWith('>');
        const out: HistoryMessage[] = [];
        let next = fromSeq + 1;
        while (next <= toSeq && out.length <= max) {
          const want = Math.min(1_000, max + 1 - out.length, toSeq - next + 1);
          let got = 0;
          let done = false;
          try {
            const iter = await jsm.direct.getBatch(this.stream, { seq: next, next_by_subj: subject, batch: want });
            for await (const m of iter) {
              got++;
              if (m.seq > toSeq) {
                done = true;
                iter.stop();
                break;
              }
              const text = withSeq(decoder.decode(m.data), m.seq);
              if (text !== undefined) out.push({ subject: wildcard ? toSpace(this.prefix, m.subject, 'live') : live, seq: m.seq, text });
              next = m.seq + 1;
              if (m.pending === 0) done = true;
            }
          } catch (err) {
            // Nothing (more) on this subject from `next` on: the server answers 404 "message not found".
            if ((err as { code?: unknown }).code !== 404) throw err;
            break;
          }
          if (done || got < want) break;
        }
        return out;
      }),
    );
    const all = perSubject.length === 1 ? perSubject[0]! : perSubject.flat().sort((x, y) => x.seq - y.seq);
    if (all.length > max) return { kind: 'overflow', pending: all.length };
    return { kind: 'messages', count: all.length, messages: fromArray(all) };
  }

  /**
   * Fallback without direct get: one ephemeral, in-memory, ack-none consumer filtered
   * to exactly the connection's subjects (multi-filter, nats-server ≥ 2.10) from
   * `fromSeq + 1`. Its creation answer carries `num_pending`, so the replay knows how
   * many messages to read; sequences are checked to only increase.
   */
  private async replayConsumer(subjects: readonly string[], fromSeq: number, max: number, toSeq: number): Promise<ReplayPlan> {
    const jsm = await this.jsm;
    const ci = await jsm.consumers.add(this.stream, {
      filter_subjects: subjects.map((s) => toSpace(this.prefix, s, 'n')),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: fromSeq + 1,
      ack_policy: AckPolicy.None,
      mem_storage: true,
      num_replicas: 1,
      inactive_threshold: 30 * 1e9,
    });
    const remove = () => void jsm.consumers.delete(this.stream, ci.name).catch(() => undefined);
    const count = ci.num_pending;
    if (count > max || count === 0) {
      remove();
      return count > max ? { kind: 'overflow', pending: count } : { kind: 'messages', count: 0, messages: fromArray([]) };
    }
    const consumer = this.js.consumers.getConsumerFromInfo(ci);
    const timeoutMs = this.timeoutMs;
    const prefix = this.prefix;
    async function* read(): AsyncGenerator<HistoryMessage> {
      let got = 0;
      let last = fromSeq;
      try {
        while (got < count) {
          const batch = await consumer.fetch({ max_messages: Math.min(1_000, count - got), expires: timeoutMs });
          let inBatch = 0;
          for await (const m of batch) {
            inBatch++;
            got++;
            if (m.seq <= last) throw new Error(`replay out of order: ${m.seq} after ${last}`);
            last = m.seq;
            // Stored after the bounds were read: it is in the live buffer (and ordered after).
            if (m.seq > toSeq) return;
            const text = withSeq(decoder.decode(m.data), m.seq);
            if (text !== undefined) yield { subject: toSpace(prefix, m.subject, 'live'), seq: m.seq, text };
            if (got >= count) break;
          }
          if (inBatch === 0) throw new Error(`replay stalled after ${got} of ${count} messages`);
        }
      } finally {
        remove();
      }
    }
    return { kind: 'messages', count, messages: read() };
  }
}

/** The stream does not exist (JetStream API error 10059). */
export function isStreamNotFound(err: unknown): boolean {
  return (err as { code?: unknown } | undefined)?.code === 10059 || /stream not found/i.test(String(err));
}

/** Batched direct get (`batch`, `next_by_subj`) arrived in nats-server 2.11. */
export function supportsBatchDirectGet(version: string | undefined): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version ?? '');
  if (!m) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 2 || (major === 2 && minor >= 11);
}

async function* fromArray(items: readonly HistoryMessage[]): AsyncGenerator<HistoryMessage> {
  for (const m of items) yield m;
}

export class BadCursorError extends Error {
  readonly code = 'BAD_CURSOR';
  constructor(detail: string) {
    super(detail);
    this.name = 'BadCursorError';
  }
}

/** How a transport takes part in a resume. Every call is made at most once, in order. */
export interface ResumeTarget {
  readonly conn: Conn;
  /** The connection's subjects (live space), already joined in the hub. */
  readonly subjects: readonly string[];
  readonly cursor: number;
  /** The cursor is valid and the resume will proceed: answer the client (welcome, SSE headers). */
  ready(): void;
  /** One notification to this connection only (replayed or buffered). */
  send(text: string, seq: number): void;
  /** Tell the client that notifications were lost (`{"type":"gap"}` / `event: gap`). */
  gap(): void;
  /** Attach to live fan-out (uWS topics, SSE member sets). Called synchronously after the last buffered send. */
  goLive(): void;
}

export type ResumeResult = 'ok' | 'gap' | 'limit' | 'bad_cursor' | 'error' | 'rejected' | 'aborted' | 'unavailable';

export interface ResumeSettings {
  readonly maxMessages: number;
  readonly concurrency: number;
  readonly queueMax: number;
}

/**
 * Resume for one pod: subscribe live first and buffer, replay from the cursor with
 * a history consumer, then flush the buffer skipping what was replayed, then attach
 * the connection to live fan-out. Every notification exactly once, in stream order.
 *
 * A reconnect storm must not starve live delivery: at most `concurrency` replays run
 * at once, the rest wait in a FIFO of at most `queueMax` (beyond: RATE_LIMITED, the
 * client retries with backoff). Live fan-out never waits on any of this.
 */
export class Resumer {
  private running = 0;
  private readonly queue: Array<() => void> = [];
  private boundsAt = 0;
  private boundsReq: Promise<HistoryBounds> | undefined;

  constructor(
    private readonly history: History | undefined,
    private readonly hub: Hub,
    private readonly settings: ResumeSettings,
    private readonly metrics: EdgeMetrics,
    private readonly log: Logger,
  ) {}

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.queue.length;
  }

  /**
   * Stream bounds requested after `since` (ms): concurrent resumes whose live
   * subscriptions were sent before one request was share its answer instead of each asking.
   */
  private boundsAfter(since: number): Promise<HistoryBounds> {
    if (this.boundsReq && this.boundsAt > since) return this.boundsReq;
    this.boundsAt = performance.now();
    const req = this.history!.bounds();
    this.boundsReq = req;
    req.catch(() => {
      if (this.boundsReq === req) this.boundsReq = undefined;
    });
    return req;
  }

  /** Run a resume to the end. Throws BadCursorError for a cursor the stream never issued. */
  async resume(t: ResumeTarget): Promise<ResumeResult> {
    if (this.running >= this.settings.concurrency) {
      if (this.queue.length >= this.settings.queueMax) return this.count('rejected');
      await new Promise<void>((r) => this.queue.push(r));
    }
    this.running++;
    try {
      return this.count(await this.run(t));
    } catch (err) {
      if (err instanceof BadCursorError) {
        this.count('bad_cursor');
        throw err;
      }
      this.log.warn({ err: String(err), conn: t.conn.id }, 'resume failed');
      return this.count(t.conn.closed ? 'aborted' : 'error');
    } finally {
      this.running--;
      this.queue.shift()?.();
    }
  }

  private count(result: ResumeResult): ResumeResult {
    this.metrics.resumes.inc({ result });
    return result;
  }

  private async run(t: ResumeTarget): Promise<ResumeResult> {
    if (t.conn.closed) return 'aborted';
    if (!this.history) {
      // No history at all (should not happen in a deployment): never pretend nothing was missed.
      t.ready();
      t.gap();
      t.goLive();
      return 'gap';
    }
    // Buffer live messages for this connection from now on; the subscriptions already exist.
    const buffer: HistoryMessage[] = [];
    const untap = this.hub.tap(t.subjects, (text, seq) => {
      if (seq !== undefined) buffer.push({ subject: '', seq, text });
    });
    const since = performance.now();
    let lastSent = t.cursor;
    const sendOne = (m: HistoryMessage) => {
      if (m.seq <= lastSent) return;
      lastSent = m.seq;
      t.send(m.text, m.seq);
    };
    try {
      // The hub's SUBs for these subjects went out on the connection before this request:
      // the server handles them first, so everything stored after the bounds it reports
      // reaches the live buffer. No extra round trip needed.
      const b = await this.boundsAfter(since).catch((err: unknown) => {
        if (isStreamNotFound(err)) return undefined;
        throw err;
      });
      if (!b) {
        // The stream is gone (or not created yet): whatever the cursor pointed at is lost.
        t.ready();
        t.gap();
        lastSent = 0; // a new stream numbers from 1 again
        for (const m of buffer) sendOne(m);
        untap();
        t.goLive();
        return 'gap';
      }
      if (t.cursor > b.last) throw new BadCursorError(`cursor ${t.cursor} is beyond the last stream sequence ${b.last}`);
      if (t.conn.closed) return 'aborted';
      t.ready();
      let result: ResumeResult = 'ok';
      let from = t.cursor;
      if (t.cursor + 1 < b.first) {
        // Older than what the stream holds: say so, then continue from the oldest held.
        t.gap();
        result = 'gap';
        from = b.first - 1;
      }
      if (from < b.last) {
        const plan = await this.history.replay(t.subjects, from, this.settings.maxMessages, b.last);
        if (plan.kind === 'overflow') {
          if (result !== 'gap') t.gap();
          result = 'limit';
          // Skip the backlog: continue live from what the stream holds now.
          lastSent = Math.max(lastSent, b.last);
        } else {
          for await (const m of plan.messages) {
            if (t.conn.closed) return 'aborted';
            sendOne(m);
          }
        }
      }
      if (t.conn.closed) return 'aborted';
      // Synchronous from here: no bus message can be handled between the last buffered send and goLive.
      for (const m of buffer) sendOne(m);
      untap();
      t.goLive();
      return result;
    } finally {
      untap();
    }
  }
}

export interface OutageSettings {
  readonly maxOutageS: number;
  readonly maxMessages: number;
}

/**
 * An edge that loses NATS keeps its client sockets. While disconnected the hub holds
 * whatever arrives; on reconnect this replays what the pod's subjects missed since
 * the last delivered sequence, then releases the held messages (skipping what was
 * replayed) and goes live. Past the bounds (outage too long, too many missed, stream
 * no longer holding them) it closes the affected connections with SHUTDOWN so they
 * reconnect and resume on their own. Never a silent loss.
 */
export class OutageRecovery {
  private downSince: number | undefined;
  private fromSeq = 0;
  private recovering: Promise<void> | undefined;

  constructor(
    private readonly history: History | undefined,
    private readonly hub: Hub,
    private readonly conns: () => Iterable<Conn>,
    private readonly settings: OutageSettings,
    private readonly log: Logger,
    private readonly flushBus: () => Promise<void>,
  ) {}

  disconnected(): void {
    if (this.downSince !== undefined) return;
    this.downSince = Date.now();
    this.fromSeq = this.hub.lastDeliveredSeq;
    this.hub.hold();
  }

  connected(): Promise<void> {
    if (this.downSince === undefined) return Promise.resolve();
    this.recovering ??= this.recover().finally(() => (this.recovering = undefined));
    return this.recovering;
  }

  private async recover(): Promise<void> {
    const down = this.downSince!;
    const outageMs = Date.now() - down;
    const subjects = this.hub.subjects();
    let closeAll = outageMs > this.settings.maxOutageS * 1000 ? `outage of ${outageMs} ms exceeds ${this.settings.maxOutageS} s` : undefined;
    if (!closeAll && subjects.length > 0 && this.history) {
      try {
        await this.flushBus();
        const b = await this.history.bounds().catch((err: unknown) => {
          // No stream at all: nothing was stored, so nothing can have been missed.
          if (isStreamNotFound(err)) return undefined;
          throw err;
        });
        if (!b) this.log.warn('no stream to replay the NATS outage from; nothing can have been stored');
        else if (this.fromSeq + 1 < b.first) closeAll = `stream no longer holds sequence ${this.fromSeq + 1}`;
        else {
          let n = 0;
          if (this.fromSeq < b.last) {
            // Many rooms: one read of everything stored during the outage beats a request per room.
            const plan =
              subjects.length > 16 && this.history.scan
                ? await this.history.scan(this.fromSeq, this.settings.maxMessages, b.last)
                : await this.history.replay(subjects, this.fromSeq, this.settings.maxMessages, b.last);
            if (plan.kind === 'overflow') closeAll = `${plan.pending} missed notifications exceed ${this.settings.maxMessages}`;
            else
              for await (const m of plan.messages) {
                if (this.hub.members(m.subject) === 0) continue;
                this.hub.inject(m.subject, m.text, m.seq);
                n++;
              }
          }
          if (!closeAll) this.log.info({ replayed: n, outageMs }, 'replayed notifications missed during the NATS outage');
        }
      } catch (err) {
        closeAll = `replay after outage failed: ${String(err)}`;
      }
    } else if (!closeAll && subjects.length > 0) {
      closeAll = 'no history to replay from';
    }
    this.downSince = undefined;
    if (closeAll) {
      this.log.warn({ reason: closeAll, outageMs }, 'closing connections so that they resume');
      this.hub.release(Number.MAX_SAFE_INTEGER);
      for (const c of [...this.conns()]) {
        if (c.closed || c.subjects.length === 0) continue;
        c.closeReason = 'nats_outage';
        c.end('SHUTDOWN');
      }
      return;
    }
    this.hub.release();
  }
}
