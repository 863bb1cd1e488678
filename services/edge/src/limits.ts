/**
 * Token bucket: `rate` tokens per second up to `burst`. State is two numbers so it
 * can live inline on a connection object.
 */
export interface BucketState {
  tokens: number;
  last: number;
}

export function takeToken(state: BucketState, rate: number, burst: number, now: number): boolean {
  const elapsed = (now - state.last) / 1000;
  state.tokens = Math.min(burst, state.tokens + elapsed * rate);
  state.last = now;
  if (state.tokens < 1) return false;
  state.tokens -= 1;
  return true;
}

/** Per-key token buckets (connect attempts per IP) with a bounded number of keys. */
export class KeyedRateLimiter {
  private readonly buckets = new Map<string, BucketState>();
  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly maxKeys = 100_000,
  ) {}

  take(key: string, now = Date.now()): boolean {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.prune(now);
      // Still full after pruning: an address flood; refuse new keys rather than grow without bound.
      if (this.buckets.size >= this.maxKeys) return false;
      b = { tokens: this.burst, last: now };
      this.buckets.set(key, b);
    }
    return takeToken(b, this.rate, this.burst, now);
  }

  /** Forget buckets that have refilled completely: they carry no information. */
  prune(now = Date.now()): void {
    const full = this.burst / this.rate;
    for (const [k, b] of this.buckets) if ((now - b.last) / 1000 >= full) this.buckets.delete(k);
  }

  get size(): number {
    return this.buckets.size;
  }
}

/** Counts of open connections per key (user, tenant) with a ceiling. */
export class Counter {
  private readonly counts = new Map<string, number>();
  constructor(private readonly max: number) {}

  /** Reserve one slot; false when the key is at its ceiling. */
  acquire(key: string): boolean {
    const n = this.counts.get(key) ?? 0;
    if (n >= this.max) return false;
    this.counts.set(key, n + 1);
    return true;
  }

  release(key: string): void {
    const n = this.counts.get(key) ?? 0;
    if (n <= 1) this.counts.delete(key);
    else this.counts.set(key, n - 1);
  }

  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }
}
