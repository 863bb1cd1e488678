import { expect, it } from 'vitest';
import { TenantRateLimiter } from './ratelimit.js';

it('gives each tenant its own bucket, refills over time and says when to retry', () => {
  let now = 0;
  const l = new TenantRateLimiter({ rate: 2, burst: 3 }, { vip: { rate: 100, burst: 100 } }, () => now);
  expect([1, 2, 3, 4].map(() => l.take('a').ok)).toEqual([true, true, true, false]);
  expect(l.take('a').retryAfterS).toBe(1);
  expect(l.take('b').ok).toBe(true);
  expect(Array.from({ length: 100 }, () => l.take('vip').ok).every(Boolean)).toBe(true);
  now += 500; // half a second at 2/s = one token
  expect(l.take('a').ok).toBe(true);
  expect(l.take('a').ok).toBe(false);
  now += 10_000;
  expect([1, 2, 3, 4].map(() => l.take('a').ok)).toEqual([true, true, true, false]);
});

it('takes n tokens all or nothing', () => {
  const l = new TenantRateLimiter({ rate: 1, burst: 5 }, {}, () => 0);
  expect(l.take('t', 4).ok).toBe(true);
  const r = l.take('t', 2);
  expect(r).toEqual({ ok: false, retryAfterS: 1 });
  expect(l.take('t', 1).ok).toBe(true);
});

it('keeps memory bounded by dropping idle tenants', () => {
  let now = 0;
  const l = new TenantRateLimiter({ rate: 1, burst: 1 }, {}, () => now, 100);
  for (let i = 0; i < 100; i++) l.take(`t${i}`);
  now += 5_000;
  l.take('new');
  expect(l.size).toBe(1);
});
