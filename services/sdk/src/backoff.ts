/** Reconnect delays: exponential backoff with full jitter, capped (AWS architecture blog, "Exponential Backoff And Jitter"). */
export interface BackoffOptions {
  /** Upper bound of the first delay, ms. Default 500. */
  readonly baseMs?: number;
  /** No delay ever exceeds this, ms. Default 30,000. */
  readonly capMs?: number;
  /** Uniform [0, 1) source; injectable for tests. Default Math.random. */
  readonly random?: () => number;
}

export const DEFAULT_BASE_MS = 500;
export const DEFAULT_CAP_MS = 30_000;

/** Upper bound of the delay before reconnect attempt `attempt` (0-based): min(cap, base·2^attempt). */
export function backoffCeiling(attempt: number, baseMs = DEFAULT_BASE_MS, capMs = DEFAULT_CAP_MS): number {
  // 2^31 already exceeds any sane cap; clamping keeps the product finite.
  return Math.min(capMs, baseMs * 2 ** Math.min(Math.max(0, attempt), 31));
}

/** Full jitter: uniform in [0, min(cap, base·2^attempt)]. */
export function fullJitter(attempt: number, opts: BackoffOptions = {}): number {
  const random = opts.random ?? Math.random;
  return Math.floor(random() * backoffCeiling(attempt, opts.baseMs, opts.capMs));
}

/**
 * The reconnect schedule of one client. Full jitter spreads a crowd of clients that lost
 * the same pod over the whole window instead of having them return in waves.
 */
export class Backoff {
  private n = 0;

  constructor(private readonly opts: BackoffOptions = {}) {}

  /** How many delays were drawn since the last reset. */
  get attempt(): number {
    return this.n;
  }

  /** The next delay, ms; each call moves one step up the exponential ceiling. */
  next(): number {
    return fullJitter(this.n++, this.opts);
  }

  /** Skip ahead (e.g. the server said it is overloaded): the next delays start from `attempt`. */
  atLeast(attempt: number): void {
    this.n = Math.max(this.n, attempt);
  }

  reset(): void {
    this.n = 0;
  }
}
