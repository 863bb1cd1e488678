/**
 * The bus is how an edge hears about notifications. Two implementations meet one
 * contract (test/bus.contract.test.ts): NATS for production, memory for the
 * single-process standalone mode and unit tests.
 */
export interface BusMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  /** Stream sequence (from the JetStream republish header `Nats-Sequence`), when stored. */
  readonly seq: number | undefined;
  /** Other headers (`traceparent`, ...), when present. */
  readonly headers: ReadonlyMap<string, string> | undefined;
}

export type BusHandler = (msg: BusMessage) => void;

export interface BusSubscription {
  unsubscribe(): void;
}

export type BusStatus = 'connected' | 'disconnected' | 'closed';

export interface Bus {
  readonly kind: 'nats' | 'memory';
  /** True while messages can flow. */
  isConnected(): boolean;
  /** Called on every status change. */
  onStatus(listener: (status: BusStatus) => void): void;
  /** One subscription on an exact subject. Delivery is in publish order per subject. */
  subscribe(subject: string, handler: BusHandler): BusSubscription;
  /** Core publish (control messages, tests). Headers are passed through. */
  publish(subject: string, data: Uint8Array, headers?: Readonly<Record<string, string>>): Promise<void>;
  /** Resolve when everything published so far has reached the server (round trip). */
  flush(): Promise<void>;
  /** Stop receiving, deliver what is in flight, close. Idempotent. */
  drain(): Promise<void>;
}

/** Header names shared by the bus implementations. */
export const SEQ_HEADER = 'Nats-Sequence';
