import { describe, expect, it } from 'vitest';
import { Counter, KeyedRateLimiter, takeToken } from './limits.js';

describe('token bucket', () => {
  it('allows a burst then the refill rate', () => {
    const s = { tokens: 3, last: 0 };
    expect([1, 2, 3, 4].map(() => takeToken(s, 1, 3, 0))).toEqual([true, true, true, false]);
    expect(takeToken(s, 1, 3, 999)).toBe(false);
    expect(takeToken(s, 1, 3, 1000)).toBe(true);
  });

  it('keeps per-key buckets bounded and prunes full ones', () => {
    const l = new KeyedRateLimiter(1, 2, 3);
    expect(l.take('a', 0) && l.take('b', 0) && l.take('c', 0)).toBe(true);
    expect(l.take('d', 0)).toBe(false); // table full, nothing refilled yet
    expect(l.take('d', 5000)).toBe(true); // a, b, c refilled and pruned
    expect(l.size).toBe(1);
  });
});

describe('counter', () => {
  it('enforces a ceiling per key and releases', () => {
    const c = new Counter(2);
    expect(c.acquire('k')).toBe(true);
    expect(c.acquire('k')).toBe(true);
    expect(c.acquire('k')).toBe(false);
    expect(c.acquire('other')).toBe(true);
    c.release('k');
    expect(c.acquire('k')).toBe(true);
    expect(c.get('k')).toBe(2);
  });
});
