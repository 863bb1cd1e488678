import type { Conn } from './gateway.js';
import type { Hub } from './hub.js';
import type { Logger } from './logger.js';
import type { EdgeMetrics, RESUME_RESULTS } from './metrics.js';

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

const ENVELOPE_START = '{"type":"notification"';

/** Stored body → client text with `seq` appended (the same bytes the hub makes for live delivery). */
export function withSeq(body: string, seq: number): string | undefined {
  if (!body.startsWith(ENVELOPE_START) || body.charCodeAt(body.length - 1) !== 125) return undefined;
  return `${body.slice(0, -1)},"seq":${seq}}`;
}

/** The stream does not exist (JetStream API error 10059). */
export function isStreamNotFound(err: unknown): boolean {
  return (err as { code?: unknown } | undefined)?.code === 10059 || /stream not found/i.test(String(err));
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

export type ResumeResult = (typeof RESUME_RESULTS)[number];

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
    // Bounded: a very busy room during a slow replay must not grow it without limit;
    // past the bound the rest is dropped and the client is told (gap) at that point.
    const buffer: HistoryMessage[] = [];
    let overflowed = false;
    const untap = this.hub.tap(t.subjects, (text, seq) => {
      if (seq === undefined) return;
      if (buffer.length >= this.settings.maxMessages) overflowed = true;
      else buffer.push({ subject: '', seq, text });
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
      if (overflowed) {
        t.gap();
        result = 'limit';
      }
      untap();
      t.goLive();
      return result;
    } finally {
      untap();
    }
  }
}

