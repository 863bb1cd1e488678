import { describe, expect, it } from 'vitest';
import { Backoff, backoffCeiling, fullJitter } from './backoff.js';

/** Draw `n` delays for reconnect attempt `attempt` the way the client does. */
function draw(n: number, attempt: number, baseMs: number, capMs: number): number[] {
  return Array.from({ length: n }, () => fullJitter(attempt, { baseMs, capMs }));
}

function stats(xs: number[]) {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
  return { mean, sd, min: Math.min(...xs), max: Math.max(...xs) };
}

describe('full-jitter backoff', () => {
  it('has the exponential, capped ceiling min(cap, base·2^n)', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((n) => backoffCeiling(n, 500, 30_000))).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    expect(backoffCeiling(10_000, 500, 30_000)).toBe(30_000);
    expect(backoffCeiling(-1, 500, 30_000)).toBe(500);
  });

  // 1,000 simulated reconnects per attempt number. For U[0, c]: mean c/2, sd c/√12. With
  // n = 1000 the sample mean's sd is c/√12000 ≈ 0.0091c, so ±0.04c is over 4 sd; the sample
  // sd is within ±10% with a wider margin still. Deciles: chi-square with 9 degrees of
  // freedom stays under 27.9 with probability 0.999.
  it.each([0, 2, 4, 6, 12])('spreads 1,000 reconnects uniformly over [0, ceiling] at attempt %i', (attempt) => {
    const base = 500;
    const cap = 30_000;
    const c = backoffCeiling(attempt, base, cap);
    const xs = draw(1000, attempt, base, cap);
    const s = stats(xs);
    expect(s.min).toBeGreaterThanOrEqual(0);
    expect(s.max).toBeLessThanOrEqual(c);
    expect(Math.abs(s.mean - c / 2)).toBeLessThan(0.04 * c);
    expect(s.sd / (c / Math.sqrt(12))).toBeGreaterThan(0.9);
    expect(s.sd / (c / Math.sqrt(12))).toBeLessThan(1.1);
    // Spread, not waves: every tenth of the window gets its share.
    const bins = new Array<number>(10).fill(0);
    for (const x of xs) bins[Math.min(9, Math.floor((x / c) * 10))]!++;
    const chi2 = bins.reduce((a, o) => a + (o - 100) ** 2 / 100, 0);
    expect(chi2).toBeLessThan(27.9);
    // Most clients do not come back in the first 10% of the window (a thundering herd would).
    expect(xs.filter((x) => x < c / 10).length).toBeLessThan(150);
  });

  it('climbs one step per delay, resets, and can skip ahead', () => {
    const b = new Backoff({ baseMs: 100, capMs: 1000, random: () => 0.999999 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([99, 199, 399, 799, 999]);
    b.reset();
    expect(b.next()).toBe(99);
    b.atLeast(3);
    expect(b.next()).toBe(799);
    expect(new Backoff({ baseMs: 100, capMs: 1000, random: () => 0 }).next()).toBe(0);
  });
});
