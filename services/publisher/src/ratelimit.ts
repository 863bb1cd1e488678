import type { RateSpec } from './config.js';

interface Bucket {
  tokens: number;
  at: number;
  spec: RateSpec;
}

export interface TakeResult {
  readonly ok: boolean;
  /** Whole seconds until `n` tokens are available (for Retry-After); 0 when ok. */
  readonly retryAfterS: number;
}

/**
 * Per-tenant token buckets. Each tenant has its own bucket, so one tenant over its
 * limit never consumes another's budget. Memory is bounded: when the table grows past
 * `maxTenants`, buckets that have refilled completely (idle tenants) are dropped.
 */
export class TenantRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly defaults: RateSpec,
    private readonly overrides: Readonly<Record<string, RateSpec>> = {},
    private readonly now: () => number = () => performance.now(),
    private readonly maxTenants = 10_000,
  ) {}

  /** Take `n` tokens for `tenant`, all or nothing. */
  take(tenant: string, n = 1): TakeResult {
    const t = this.now();
    let b = this.buckets.get(tenant);
    if (!b) {
      const spec = Object.prototype.hasOwnProperty.call(this.overrides, tenant) ? this.overrides[tenant]! : this.defaults;
      b = { tokens: spec.burst, at: t, spec };
      if (this.buckets.size >= this.maxTenants) this.evictIdle(t);
      this.buckets.set(tenant, b);
    } else {
      b.tokens = Math.min(b.spec.burst, b.tokens + ((t - b.at) / 1000) * b.spec.rate);
      b.at = t;
    }
    if (b.tokens >= n) {
      b.tokens -= n;
      return { ok: true, retryAfterS: 0 };
    }
    const need = Math.min(n, b.spec.burst) - b.tokens;
    return { ok: false, retryAfterS: Math.max(1, Math.ceil(need / b.spec.rate)) };
  }

  get size(): number {
    return this.buckets.size;
  }

  private evictIdle(t: number): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((t - b.at) / 1000) * b.spec.rate >= b.spec.burst) this.buckets.delete(k);
    }
  }
}
