import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devTokens, loadStandaloneConfig, startStandalone, type Standalone } from '@herald/standalone';
import { freePort } from '@herald/testkit';
import { launchChromium } from './chromium.js';

let s: Standalone;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let service: string;

beforeAll(async () => {
  const port = await freePort();
  // A ring with room for about three notifications, so an old cursor is a gap.
  const config = loadStandaloneConfig({
    HERALD_PORT: String(port),
    HERALD_INTERNAL_PORT: '0',
    HERALD_PUBLISHER_PORT: '0',
    HERALD_PUBLISHER_INTERNAL_PORT: '0',
    HERALD_STREAM_MAX_BYTES: '700',
    HERALD_LOG_LEVEL: 'warn',
  });
  s = await startStandalone(config);
  service = (await devTokens(config))!.service;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await s?.stop('test');
});

async function publish(room: string, data: Record<string, unknown>): Promise<number> {
  const r = await fetch(`${s.publisherUrl}/v1/notifications`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${service}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ tenant: 'acme', room, event: 'ring.test', data }),
  });
  expect(r.status).toBe(202);
  return ((await r.json()) as { seq: number }).seq;
}

describe('demo page on herald standalone, in Debian chromium', () => {
  it('shows the gap banner when the stored cursor is older than the history holds, then what it still holds', async () => {
    for (let i = 0; i < 8; i++) await publish('user:alice', { i });
    const { first, last } = await s.history.bounds();
    expect(first).toBeGreaterThan(2);
    const page = await browser.context.newPage();
    // The page stores its cursor per user in sessionStorage; pretend it last saw seq 1.
    await page.addInitScript(() => sessionStorage.setItem('herald-demo-cursor:acme:alice', '1'));
    await page.goto(`${s.edgeUrl}/demo?user=alice`);
    await page.locator('#status[data-state="connected"]').waitFor({ timeout: 15_000 });
    await page.locator('#gap').waitFor({ state: 'visible', timeout: 10_000 });
    await page.locator(`#notifications li[data-seq="${last}"]`).waitFor({ timeout: 10_000 });
    const seqs = await page.locator('#notifications li[data-seq]').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.seq)));
    expect(seqs.slice().reverse()).toEqual(Array.from({ length: last - first + 1 }, (_, i) => first + i));
    await page.close();
  });
});
