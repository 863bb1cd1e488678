const timers = globalThis;
export const setTimeout = timers.setTimeout.bind(timers);
export const clearTimeout = timers.clearTimeout.bind(timers);
