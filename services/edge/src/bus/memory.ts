import type { Bus, BusHandler, BusMessage, BusStatus, BusSubscription } from './bus.js';
import { SEQ_HEADER } from './bus.js';

/**
 * In-process bus: exact-subject fan-out on the same event loop. Delivery is
 * asynchronous (a microtask later), like a network bus, so callers cannot come to
 * depend on synchronous delivery that NATS would not give them.
 */
export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  private readonly subs = new Map<string, Set<BusHandler>>();
  private readonly listeners: Array<(s: BusStatus) => void> = [];
  private closed = false;
  private pending: Promise<void> = Promise.resolve();

  isConnected(): boolean {
    return !this.closed;
  }

  onStatus(listener: (status: BusStatus) => void): void {
    this.listeners.push(listener);
  }

  subscribe(subject: string, handler: BusHandler): BusSubscription {
    if (this.closed) throw new Error('bus closed');
    let set = this.subs.get(subject);
    if (!set) this.subs.set(subject, (set = new Set()));
    // Wrap so that subscribing the same function twice gives two subscriptions.
    const h: BusHandler = (m) => handler(m);
    set.add(h);
    return {
      unsubscribe: () => {
        const s = this.subs.get(subject);
        if (!s) return;
        s.delete(h);
        if (s.size === 0) this.subs.delete(subject);
      },
    };
  }

  publish(subject: string, data: Uint8Array, headers?: Readonly<Record<string, string>>): Promise<void> {
    if (this.closed) return Promise.reject(new Error('bus closed'));
    const hdrs = headers ? new Map(Object.entries(headers)) : undefined;
    const seqText = hdrs?.get(SEQ_HEADER);
    const msg: BusMessage = { subject, data, seq: seqText === undefined ? undefined : Number(seqText), headers: hdrs };
    this.pending = this.pending.then(() => {
      const set = this.subs.get(subject);
      if (!set) return;
      for (const h of [...set]) h(msg);
    });
    return Promise.resolve();
  }

  flush(): Promise<void> {
    return this.pending;
  }

  async drain(): Promise<void> {
    if (this.closed) return;
    await this.pending;
    this.closed = true;
    this.subs.clear();
    for (const l of this.listeners) l('closed');
  }
}
