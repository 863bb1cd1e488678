import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer, uniquePrefix, waitFor } from '@herald/testkit';
import { createLogger } from '../src/logger.js';
import { MemoryBus } from '../src/bus/memory.js';
import { NatsBus } from '../src/bus/nats.js';
import type { Bus, BusMessage } from '../src/bus/bus.js';
import { loadConfig } from '../src/config.js';
import { baseEnv } from './harness.js';

let nats: NatsServer;
beforeAll(async () => {
  nats = await NatsServer.start({ jetstream: false });
});
afterAll(async () => {
  await nats?.dispose();
});

const silent = createLogger('silent', 'test');
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

const implementations: Array<[string, () => Promise<Bus>]> = [
  ['memory', async () => new MemoryBus()],
  ['nats', async () => NatsBus.connect(loadConfig(baseEnv(nats.url, 'x')).nats, silent)],
];

/** One specification, both buses: the standalone mode behaves like production. */
describe.each(implementations)('bus contract: %s', (_name, make) => {
  it('delivers to exact-subject subscribers only, in publish order', async () => {
    const bus = await make();
    const p = uniquePrefix();
    const got: string[] = [];
    const other: string[] = [];
    bus.subscribe(`${p}.a`, (m) => got.push(dec(m.data)));
    bus.subscribe(`${p}.b`, (m) => other.push(dec(m.data)));
    await bus.flush();
    for (let i = 0; i < 100; i++) await bus.publish(`${p}.a`, enc(String(i)));
    await bus.flush();
    await waitFor(() => got.length === 100);
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
    expect(other).toEqual([]);
    await bus.drain();
  });

  it('passes the stream sequence and other headers through', async () => {
    const bus = await make();
    const p = uniquePrefix();
    const got: BusMessage[] = [];
    bus.subscribe(`${p}.s`, (m) => got.push(m));
    await bus.flush();
    await bus.publish(`${p}.s`, enc('x'), { 'Nats-Sequence': '42', traceparent: '00-abc-def-01' });
    await bus.publish(`${p}.s`, enc('y'));
    await waitFor(() => got.length === 2);
    expect(got[0]!.seq).toBe(42);
    expect(got[0]!.headers?.get('traceparent')).toBe('00-abc-def-01');
    expect(got[0]!.subject).toBe(`${p}.s`);
    expect(got[1]!.seq).toBeUndefined();
    await bus.drain();
  });

  it('stops delivering after unsubscribe, and keeps other subscriptions', async () => {
    const bus = await make();
    const p = uniquePrefix();
    const a: string[] = [];
    const b: string[] = [];
    const sa = bus.subscribe(`${p}.x`, (m) => a.push(dec(m.data)));
    bus.subscribe(`${p}.x`, (m) => b.push(dec(m.data)));
    await bus.flush();
    await bus.publish(`${p}.x`, enc('1'));
    await waitFor(() => a.length === 1 && b.length === 1);
    sa.unsubscribe();
    await bus.flush();
    await bus.publish(`${p}.x`, enc('2'));
    await waitFor(() => b.length === 2);
    expect(a).toEqual(['1']);
    await bus.drain();
  });

  it('gives a late subscriber only what is published after it subscribed (the bus itself never replays)', async () => {
    const bus = await make();
    const p = uniquePrefix();
    await bus.publish(`${p}.late`, enc('before'));
    await bus.flush();
    const got: string[] = [];
    bus.subscribe(`${p}.late`, (m) => got.push(dec(m.data)));
    await bus.flush();
    await bus.publish(`${p}.late`, enc('after'));
    await waitFor(() => got.length === 1);
    // A marker on the same subject proves nothing else was on its way.
    await bus.publish(`${p}.late`, enc('marker'));
    await waitFor(() => got.length === 2);
    expect(got).toEqual(['after', 'marker']);
    await bus.drain();
  });

  it('delivers each message once to every subscriber, byte-exact (binary and UTF-8)', async () => {
    const bus = await make();
    const p = uniquePrefix();
    const a: Uint8Array[] = [];
    const b: Uint8Array[] = [];
    bus.subscribe(`${p}.bytes`, (m) => a.push(m.data));
    bus.subscribe(`${p}.bytes`, (m) => b.push(m.data));
    await bus.flush();
    const binary = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256);
    const text = enc('{"data":{"text":"grüße — 通知 🚀"}}');
    await bus.publish(`${p}.bytes`, binary);
    await bus.publish(`${p}.bytes`, text);
    await waitFor(() => a.length === 2 && b.length === 2);
    for (const got of [a, b]) {
      expect(Buffer.from(got[0]!).equals(Buffer.from(binary))).toBe(true);
      expect(dec(got[1]!)).toBe('{"data":{"text":"grüße — 通知 🚀"}}');
    }
    await bus.publish(`${p}.bytes`, enc('end'));
    await waitFor(() => a.length === 3 && b.length === 3);
    await bus.drain();
  });

  it('reports connected, and closed after drain', async () => {
    const bus = await make();
    const statuses: string[] = [];
    bus.onStatus((s) => statuses.push(s));
    expect(bus.isConnected()).toBe(true);
    await bus.drain();
    await waitFor(() => statuses.includes('closed'));
    expect(bus.isConnected()).toBe(false);
    await bus.drain(); // idempotent
  });
});
