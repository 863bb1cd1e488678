import { recorded } from './state.js';

export function check<T>(val: T, sets: Record<string, (v: T) => boolean>): boolean {
  let all = true;
  for (const [name, fn] of Object.entries(sets)) {
    const ok = fn(val);
    recorded.checks.push({ name, ok });
    all &&= ok;
  }
  return all;
}

export function sleep(): void {
  // Only reached on a reconnect in connections.ts, which the test does not drive.
}
