import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { NatsServer, uniquePrefix } from '@herald/testkit';
import { AckError, AckMux } from '../src/bus/acks.js';
import { ensureStream } from '../src/index.js';

let nats: NatsServer;
let nc: NatsConnection;
let mux: AckMux;
const prefix = uniquePrefix();
beforeAll(async () => {
  nats = await NatsServer.start({ jetstream: true });
  nc = await connect({ servers: nats.url });
  await ensureStream(await jetstreamManager(nc), { name: `A_${prefix}`, prefix, maxBytes: 1024 * 1024 });
  mux = new AckMux(nc, 300);
});
afterAll(async () => {
  mux?.close();
  await nc?.close();
  await nats?.dispose();
});

it('resolves with the PubAck, flags duplicates by Nats-Msg-Id', async () => {
  const h = () => {
    const x = headers();
    x.set('Nats-Msg-Id', 'dup-1');
    return x;
  };
  const a = await mux.publish(`${prefix}.n.global`, '{}', h());
  const b = await mux.publish(`${prefix}.n.global`, '{}', h());
  expect(a).toMatchObject({ stream: `A_${prefix}`, seq: 1 });
  expect(a.duplicate).toBeFalsy();
  expect(b).toMatchObject({ seq: 1, duplicate: true });
  expect(mux.inFlight).toBe(0);
});

it('fails fast with no responders, on a JetStream error, and after the timeout', async () => {
  await expect(mux.publish('nobody.listens.here', '{}', headers())).rejects.toMatchObject({ kind: 'no_responders' });
  const wrong = headers();
  wrong.set('Nats-Expected-Stream', 'OTHER');
  await expect(mux.publish(`${prefix}.n.global`, '{}', wrong)).rejects.toMatchObject({ kind: 'rejected' });
  const silent = nc.subscribe('silent.subject', { callback: () => undefined });
  const started = Date.now();
  await expect(mux.publish('silent.subject', '{}', headers())).rejects.toBeInstanceOf(AckError);
  expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  expect(Date.now() - started).toBeLessThan(2_000);
  silent.unsubscribe();
  expect(mux.inFlight).toBe(0);
});
