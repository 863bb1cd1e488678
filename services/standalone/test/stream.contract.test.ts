import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createLogger, JetStreamHistory, loadConfig as loadEdgeConfig, MemoryBus, NatsBus, type Bus, type BusMessage } from '@herald/edge';
import { ensureStream } from '@herald/publisher';
import { NatsServer, TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET, uniquePrefix, waitFor } from '@herald/testkit';
import { MemoryHistory, type History } from '../src/history.js';

/**
 * The history ring stands in for the JetStream stream HERALD (capture `n`, republish to
 * `live` with Nats-Sequence, de-duplicate, replay for resume). One specification, both
 * implementations: what the edge sees in standalone is what it sees on NATS.
 */
interface Stream {
  readonly prefix: string;
  /** The edge's bus: receives the republished copies. */
  readonly bus: Bus;
  readonly history: History;
  store(subject: string, body: string, msgId?: string): Promise<{ seq: number; duplicate: boolean }>;
  close(): Promise<void>;
}

let nats: NatsServer;
beforeAll(async () => {
  nats = await NatsServer.start({ jetstream: true });
});
afterAll(async () => {
  await nats?.dispose();
});

async function memory(): Promise<Stream> {
  const prefix = uniquePrefix();
  const bus = new MemoryBus();
  const ring = new MemoryHistory(bus, { prefix, maxAgeS: 600, maxBytes: 1 << 24, maxMsgs: 10_000, duplicateWindowS: 120 });
  return { prefix, bus, history: ring, store: (s, b, id) => ring.store(s, b, id === undefined ? {} : { msgId: id }), close: () => bus.drain() };
}

async function jetStream(): Promise<Stream> {
  const prefix = uniquePrefix();
  const name = `S_${prefix}`;
  const nc: NatsConnection = await connect({ servers: nats.url });
  await ensureStream(await jetstreamManager(nc), { name, prefix, maxAgeS: 600, maxBytes: 16 * 1024 * 1024 });
  const cfg = loadEdgeConfig({ HERALD_NATS_URL: nats.url, HERALD_JWT_SECRET: TEST_SECRET, HERALD_JWT_ISSUER: TEST_ISSUER, HERALD_JWT_AUDIENCE: TEST_AUDIENCE });
  const bus = await NatsBus.connect(cfg.nats, createLogger('silent', 'test'));
  const js = jetstream(nc);
  return {
    prefix,
    bus,
    history: new JetStreamHistory(bus.nc, name, prefix),
    async store(subject, body, msgId) {
      const ack = await js.publish(subject, body, msgId === undefined ? {} : { msgID: msgId });
      return { seq: ack.seq, duplicate: ack.duplicate };
    },
    async close() {
      await bus.drain();
      await nc.drain();
    },
  };
}

const body = (n: number) => JSON.stringify({ type: 'notification', id: `n${n}`, room: 'user:a', event: 'e', data: { n }, ts: 1 });

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe.each([
  ['memory ring', memory],
  ['JetStream', jetStream],
] as const)('stream contract: %s', (_name, make) => {
  it('stores into n and republishes to live with the stream sequence, in order', async () => {
    const s = await make();
    const live = `${s.prefix}.live.t.acme.u.a`;
    const got: BusMessage[] = [];
    s.bus.subscribe(live, (m) => got.push(m));
    await s.bus.flush();
    const seqs: number[] = [];
    for (let i = 1; i <= 5; i++) seqs.push((await s.store(`${s.prefix}.n.t.acme.u.a`, body(i))).seq);
    await s.store(`${s.prefix}.n.t.acme.u.b`, body(6));
    await waitFor(() => got.length === 5, { what: 'republished' });
    expect(got.map((m) => m.seq)).toEqual(seqs);
    expect(seqs).toEqual([seqs[0]!, seqs[0]! + 1, seqs[0]! + 2, seqs[0]! + 3, seqs[0]! + 4]);
    expect(got.map((m) => m.subject)).toEqual(Array(5).fill(live));
    expect(new TextDecoder().decode(got[2]!.data)).toBe(body(3));
    await s.close();
  });

  it('answers a repeated idempotency key with the original sequence and does not deliver it again', async () => {
    const s = await make();
    const got: BusMessage[] = [];
    s.bus.subscribe(`${s.prefix}.live.global`, (m) => got.push(m));
    await s.bus.flush();
    const a = await s.store(`${s.prefix}.n.global`, body(1), 'key-1');
    const b = await s.store(`${s.prefix}.n.global`, body(1), 'key-1');
    const c = await s.store(`${s.prefix}.n.global`, body(2), 'key-2');
    expect(a.duplicate).toBe(false);
    expect(b).toEqual({ seq: a.seq, duplicate: true });
    expect(c).toEqual({ seq: a.seq + 1, duplicate: false });
    await waitFor(() => got.length === 2, { what: 'two deliveries' });
    expect(got.map((m) => m.seq)).toEqual([a.seq, c.seq]);
    await s.close();
  });

  it('replays the given subjects after a cursor, in order, with seq appended; overflows past max; reports bounds', async () => {
    const s = await make();
    const n = (x: string) => `${s.prefix}.n.t.acme.${x}`;
    const seqs: number[] = [];
    for (let i = 1; i <= 6; i++) seqs.push((await s.store(i % 2 ? n('u.a') : n('all'), body(i))).seq);
    await s.store(`${s.prefix}.n.t.other.u.a`, body(7));
    const bounds = await s.history.bounds();
    expect(bounds).toEqual({ first: seqs[0], last: seqs[0]! + 6 });
    const plan = await s.history.replay([`${s.prefix}.live.t.acme.u.a`, `${s.prefix}.live.global`], seqs[0]!, 100, bounds.last);
    expect(plan.kind).toBe('messages');
    if (plan.kind !== 'messages') return;
    const msgs = await all(plan.messages);
    expect(plan.count).toBe(2);
    expect(msgs.map((m) => [m.seq, m.subject])).toEqual([
      [seqs[2], `${s.prefix}.live.t.acme.u.a`],
      [seqs[4], `${s.prefix}.live.t.acme.u.a`],
    ]);
    expect(JSON.parse(msgs[0]!.text)).toMatchObject({ id: 'n3', seq: seqs[2] });
    expect(await s.history.replay([`${s.prefix}.live.t.acme.u.a`, `${s.prefix}.live.t.acme.all`], 0, 5, bounds.last)).toEqual({ kind: 'overflow', pending: 6 });
    const none = await s.history.replay([`${s.prefix}.live.t.acme.u.a`], bounds.last, 5, bounds.last);
    expect(none.kind === 'messages' ? none.count : -1).toBe(0);
    // Only up to toSeq: anything later reaches a resuming connection through its live buffer.
    const upTo = await s.history.replay([`${s.prefix}.live.t.acme.u.a`, `${s.prefix}.live.t.acme.all`], 0, 100, seqs[3]!);
    expect(upTo.kind === 'messages' ? (await all(upTo.messages)).map((m) => m.seq) : upTo).toEqual(seqs.slice(0, 4));
    await s.close();
  });
});
