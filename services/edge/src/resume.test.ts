import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { MemoryBus } from './bus/memory.js';
import { SEQ_HEADER } from './bus/bus.js';
import type { Conn } from './gateway.js';
import { Hub } from './hub.js';
import { createMetrics } from './metrics.js';
import { BadCursorError, Resumer, type History, type HistoryBounds, type HistoryMessage, type ReplayPlan } from './resume.js';

const SUBJECT = 'p.live.t.acme.u.1';
const text = (seq: number) => `{"type":"notification","id":"n${seq}","room":"user:1","event":"e","data":{},"ts":1,"seq":${seq}}`;
const stored = (seq: number) => new TextEncoder().encode(`{"type":"notification","id":"n${seq}","room":"user:1","event":"e","data":{},"ts":1}`);

/** History whose replay yields `held` one by one, letting the test publish live messages in between. */
class ScriptedHistory implements History {
  constructor(
    private readonly b: HistoryBounds,
    private readonly held: number[],
    private readonly between: (seq: number) => Promise<void> = async () => undefined,
  ) {}
  async bounds(): Promise<HistoryBounds> {
    return this.b;
  }
  async replay(_subjects: readonly string[], fromSeq: number, max: number): Promise<ReplayPlan> {
    const msgs = this.held.filter((s) => s > fromSeq);
    if (msgs.length > max) return { kind: 'overflow', pending: msgs.length };
    const between = this.between;
    async function* gen(): AsyncGenerator<HistoryMessage> {
      for (const seq of msgs) {
        yield { subject: SUBJECT, seq, text: text(seq) };
        await between(seq);
      }
    }
    return { kind: 'messages', count: msgs.length, messages: gen() };
  }
}

function setup(history: History, maxMessages = 100) {
  const bus = new MemoryBus();
  const metrics = createMetrics({ tenantMetrics: false, tenantMetricsMax: 1 });
  const live: number[] = [];
  const hub = new Hub(bus, { publishWs: () => 0, publishSse: () => 0 }, metrics, pino({ level: 'silent' }), 0);
  hub.join(SUBJECT);
  const resumer = new Resumer(history, hub, { maxMessages, concurrency: 2, queueMax: 10 }, metrics, pino({ level: 'silent' }));
  const publish = async (seq: number) => {
    await bus.publish(SUBJECT, stored(seq), { [SEQ_HEADER]: String(seq) });
    await bus.flush();
  };
  const events: string[] = [];
  const target = (cursor: number) => ({
    conn: { id: 'c', closed: false } as unknown as Conn,
    subjects: [SUBJECT],
    cursor,
    ready: () => events.push('ready'),
    send: (_t: string, seq: number) => events.push(String(seq)),
    gap: () => events.push('gap'),
    goLive: () => events.push('live'),
  });
  return { resumer, publish, events, target, live };
}

describe('Resumer', () => {
  it('merges the replay with live messages that arrive during it: each once, in order', async () => {
    let publish: (seq: number) => Promise<void> = async () => undefined;
    // While 11..13 are replayed, 13, 14 and 15 arrive live (13 overlaps the replay).
    const h = new ScriptedHistory({ first: 1, last: 13 }, [11, 12, 13], async (seq) => {
      if (seq === 12) {
        await publish(13);
        await publish(14);
      }
      if (seq === 13) await publish(15);
    });
    const s = setup(h);
    publish = s.publish;
    expect(await s.resumer.resume(s.target(10))).toBe('ok');
    expect(s.events).toEqual(['ready', '11', '12', '13', '14', '15', 'live']);
  });

  it('sends gap first when the cursor is older than the history, then the oldest held', async () => {
    const s = setup(new ScriptedHistory({ first: 20, last: 21 }, [20, 21]));
    expect(await s.resumer.resume(s.target(5))).toBe('gap');
    expect(s.events).toEqual(['ready', 'gap', '20', '21', 'live']);
  });

  it('sends gap and skips the backlog when more than maxMessages were missed', async () => {
    const s = setup(new ScriptedHistory({ first: 1, last: 9 }, [2, 3, 4, 5, 6, 7, 8, 9]), 3);
    expect(await s.resumer.resume(s.target(1))).toBe('limit');
    expect(s.events).toEqual(['ready', 'gap', 'live']);
  });

  it('bounds the live buffer: past maxMessages buffered during the replay, gap at the hole, then live', async () => {
    let publish: (seq: number) => Promise<void> = async () => undefined;
    const h = new ScriptedHistory({ first: 1, last: 11 }, [11], async () => {
      for (let seq = 12; seq <= 16; seq++) await publish(seq);
    });
    const s = setup(h, 3);
    publish = s.publish;
    expect(await s.resumer.resume(s.target(10))).toBe('limit');
    expect(s.events).toEqual(['ready', '11', '12', '13', '14', 'gap', 'live']);
  });

  it('refuses a cursor beyond the last sequence before answering the client', async () => {
    const s = setup(new ScriptedHistory({ first: 1, last: 9 }, []));
    await expect(s.resumer.resume(s.target(10))).rejects.toBeInstanceOf(BadCursorError);
    expect(s.events).toEqual([]);
  });
});
