import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { spaceWildcard, toSpace } from '@herald/protocol';
import { withSeq, type History, type HistoryBounds, type HistoryMessage, type ReplayPlan } from './resume.js';

const decoder = new TextDecoder();

/**
 * History on the JetStream stream (HERALD): bounds from stream info; replays by batched
 * direct get per room subject when the stream allows direct access (the publisher's
 * does) on nats-server ≥ 2.11, else by an ephemeral filtered consumer.
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

