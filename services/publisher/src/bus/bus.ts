import type { StoredNotification } from '@herald/protocol';

/** The bus is not reachable (or did not acknowledge in time): the message may not be stored. */
export class UnavailableError extends Error {
  readonly code = 'BUS_UNAVAILABLE';
  constructor(message: string, opts?: ErrorOptions) {
    super(message, opts);
    this.name = 'UnavailableError';
  }
}

export interface PublishRequest {
  readonly subject: string;
  /** JSON.stringify(StoredNotification). */
  readonly body: string;
  /** Idempotency key (Nats-Msg-Id): dedup within the duplicate window. */
  readonly msgId?: string;
  readonly ttlS?: number;
  readonly headers?: ReadonlyMap<string, string>;
}

export interface Stored {
  /** Stream sequence; for a duplicate, the original's. */
  readonly seq: number;
  readonly duplicate: boolean;
}

/**
 * Where the publisher stores notifications. NatsBus (JetStream) is the real one; an
 * embedded single-process mode can provide another implementation with the same
 * guarantees: publish resolves only once stored, `stored(seq)` reads one back.
 */
export interface PublishBus {
  /** True while publish() can succeed. */
  readonly ready: boolean;
  /** Connect (retrying); resolves when ready. */
  start(): Promise<void>;
  publish(req: PublishRequest): Promise<Stored>;
  stored(seq: number): Promise<StoredNotification | undefined>;
  close(): Promise<void>;
}
