import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { loadConfig as loadPublisherConfig, startPublisher, type Publisher } from '@herald/publisher';
import { freePort, mintServiceToken, NatsServer, TEST_ISSUER, TEST_SECRET, uniquePrefix, waitFor } from '@herald/testkit';
import { demoRoutes } from '@herald/edge';
import { launchChromium } from './chromium.js';
import { startTestEdge, type RunningEdge } from './harness.js';

/**
 * The README's picture. Every run takes it (into the temp dir); it replaces the committed
 * docs/img/demo.png only when missing or with UPDATE_SCREENSHOTS=1, so `make test` leaves
 * the tree clean.
 */
const committedScreenshot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../docs/img/demo.png');
const screenshot = process.env.UPDATE_SCREENSHOTS === '1' || !existsSync(committedScreenshot) ? committedScreenshot : join(tmpdir(), `herald-demo-${process.pid}.png`);

let nats: NatsServer;
let publisher: Publisher;
let edge: RunningEdge;
let context: BrowserContext;
let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
let port: number;
let serviceToken: string;
const prefix = uniquePrefix();
const stream = `S_${prefix}`;

async function startEdge(): Promise<RunningEdge> {
  return startTestEdge(nats.url, prefix, {
    port,
    stream,
    env: { HERALD_DEMO: 'true', HERALD_ALLOWED_ORIGINS: `http://127.0.0.1:${port}` },
    routes: demoRoutes({ publisherUrl: `http://127.0.0.1:${publisher.ports.public}` }),
  });
}

/** Publish over the publisher's HTTP API, as a back-end service would. */
async function publish(tenant: string, room: string, event: string, data: Record<string, unknown>): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${publisher.ports.public}/v1/notifications`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${serviceToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ tenant, room, event, data }),
  });
  const body = (await r.json()) as { seq: number };
  expect(r.status, JSON.stringify(body)).toBe(202);
  return body.seq;
}

async function open(user: string, query = ''): Promise<Page> {
  const page = await context.newPage();
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`http://127.0.0.1:${port}/demo?user=${user}${query}`);
  await page.locator('#status[data-state="connected"]').waitFor({ timeout: 15_000 });
  return page;
}

/** Sequence numbers shown on the page, newest first. */
function shown(page: Page): Promise<number[]> {
  return page.locator('#notifications li[data-seq]').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.seq)));
}

async function waitShown(page: Page, seq: number): Promise<void> {
  await page.locator(`#notifications li[data-seq="${seq}"]`).waitFor({ timeout: 10_000 });
}

beforeAll(async () => {
  nats = await NatsServer.start({ jetstream: true });
  publisher = await startPublisher(
    loadPublisherConfig({
      HERALD_NATS_URL: nats.url,
      HERALD_HOST: '127.0.0.1',
      HERALD_PORT: '0',
      HERALD_INTERNAL_PORT: '0',
      HERALD_SUBJECT_PREFIX: prefix,
      HERALD_STREAM_NAME: stream,
      HERALD_STREAM_MAX_BYTES: String(64 * 1024 * 1024),
      HERALD_JWT_SECRET: TEST_SECRET,
      HERALD_JWT_ISSUER: TEST_ISSUER,
      HERALD_DRAIN_DELAY_S: '0',
      HERALD_LOG_LEVEL: 'warn',
    }),
  );
  await publisher.ready;
  serviceToken = await mintServiceToken({ scopes: ['notify:publish', 'notify:global'], tenants: ['acme', 'globex'] });
  port = await freePort();
  edge = await startEdge();
  browser = await launchChromium();
  context = browser.context;
});

afterAll(async () => {
  await browser?.close();
  await edge?.stop();
  await publisher?.close({ drainDelayS: 0 });
  await nats?.dispose();
});

describe('demo page in Debian chromium', () => {
  it('connects, and shows a notification published over HTTP to the right user only', async () => {
    const alice = await open('alice');
    const gary = await open('gary'); // member of the other tenant
    expect(await alice.locator('#status').textContent()).toContain('WS');
    const forAlice = await publish('acme', 'user:alice', 'order.shipped', { order: 1001 });
    const forGary = await publish('globex', 'user:gary', 'invoice.paid', { invoice: 7 });
    await waitShown(alice, forAlice);
    await waitShown(gary, forGary);
    const item = alice.locator(`#notifications li[data-seq="${forAlice}"]`);
    expect(await item.getAttribute('data-room')).toBe('user:alice');
    expect(await item.textContent()).toMatch(/order\.shipped[\s\S]*\d+ ms[\s\S]*"order":1001/);
    // Each page saw only its own: the other's notification was published in between.
    expect(await shown(alice)).toEqual([forAlice]);
    expect(await shown(gary)).toEqual([forGary]);
    await alice.close();
    await gary.close();
  });

  it('tenant admin sees tenant notifications, a plain member does not', async () => {
    const adam = await open('adam'); // acme tenant admin
    const alice = await open('alice'); // acme member
    const tenantSeq = await publish('acme', 'tenant', 'tenant.maintenance', { window: 'Sunday 02:00' });
    // A marker to alice published after the tenant message: once it is shown, the tenant one would have been too.
    const marker = await publish('acme', 'user:alice', 'marker', {});
    await waitShown(adam, tenantSeq);
    await waitShown(alice, marker);
    expect(await shown(alice)).toEqual([marker]);
    expect(await adam.locator(`#notifications li[data-seq="${tenantSeq}"]`).getAttribute('data-room')).toBe('tenant');
    await adam.close();
    await alice.close();
  });

  it('works over SSE in the browser, with a one-time ticket instead of a token in the URL', async () => {
    const tickets: string[] = [];
    const streams: string[] = [];
    const gwen = await context.newPage();
    gwen.on('request', (r) => {
      if (r.url().includes('/v1/tickets')) tickets.push(r.method());
      if (r.url().includes('/sse')) streams.push(r.url());
    });
    await gwen.goto(`http://127.0.0.1:${port}/demo?user=gwen&transport=sse`);
    await gwen.locator('#status[data-state="connected"]').waitFor({ timeout: 15_000 });
    expect(await gwen.locator('#status').textContent()).toContain('SSE');
    const seq = await publish('globex', 'tenant', 'sse.event', { via: 'sse' });
    await waitShown(gwen, seq);
    expect(tickets).toContain('POST');
    expect(streams.every((u) => /[?&]ticket=/.test(u) && !/token|eyJ/.test(u))).toBe(true);
    await gwen.close();
  });

  it('sends a notification from the page form through the publisher API', async () => {
    const alice = await open('alice');
    await alice.selectOption('#room', 'user:alice');
    await alice.fill('#event', 'hello.from.form');
    await alice.fill('#text', 'typed in the page');
    await alice.click('#send button[type="submit"]');
    await alice.locator('#sent[data-status="202"]').waitFor({ timeout: 10_000 });
    const item = alice.locator('#notifications li[data-event="hello.from.form"]');
    await item.waitFor({ timeout: 10_000 });
    expect(await item.textContent()).toContain('typed in the page');
    await alice.close();
  });

  it('reconnects after the edge restarts and shows what was sent meanwhile', async () => {
    const adam = await open('adam');
    const before = await publish('acme', 'user:adam', 'before.restart', { n: 1 });
    await waitShown(adam, before);
    await edge.stop();
    await adam.locator('#status[data-state="reconnecting"]').waitFor({ timeout: 10_000 });
    const missed = [
      await publish('acme', 'user:adam', 'while.down', { n: 2 }),
      await publish('acme', 'tenant', 'while.down', { n: 3 }),
    ];
    edge = await startEdge();
    await adam.locator('#status[data-state="connected"]').waitFor({ timeout: 15_000 });
    for (const s of missed) await waitShown(adam, s);
    const after = await publish('acme', 'user:adam', 'after.restart', { n: 4 });
    await waitShown(adam, after);
    // Newest first, each exactly once.
    expect(await shown(adam)).toEqual([after, ...missed.slice().reverse(), before]);
    expect(await adam.locator('#gap').isHidden()).toBe(true);

    // The README's picture: an admin's page after a restart, with a few kinds of rooms.
    await publish('acme', 'global', 'status.update', { text: 'All systems normal' });
    const last = await publish('acme', 'room:ops', 'deploy.finished', { service: 'billing', version: '2.4.1' });
    const sara = await open('sara');
    await publish('acme', 'user:sara', 'order.shipped', { order: 1002, carrier: 'DHL' });
    const globalSeq = await publish('acme', 'global', 'status.update', { text: 'Maintenance on Sunday 02:00 UTC' });
    await publish('acme', 'tenant', 'invoice.paid', { invoice: 'INV-2041', amount: '129.00 EUR' });
    const lastSara = await publish('acme', 'room:ops', 'deploy.finished', { service: 'billing', version: '2.4.2' });
    await waitShown(sara, lastSara);
    await waitShown(sara, globalSeq);
    expect(last).toBeGreaterThan(0);
    mkdirSync(dirname(screenshot), { recursive: true });
    await sara.screenshot({ path: screenshot });
    await waitFor(() => existsSync(screenshot), { what: 'screenshot' });
    if (screenshot !== committedScreenshot) rmSync(screenshot, { force: true });
    await adam.close();
    await sara.close();
  });
});
