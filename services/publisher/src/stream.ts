import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { spaceWildcard } from '@herald/protocol';

/** What the HERALD stream must look like. Defaults match the publisher's config defaults. */
export interface StreamOptions {
  /** Stream name (HERALD_STREAM_NAME). */
  readonly name: string;
  /** Subject prefix (HERALD_SUBJECT_PREFIX). */
  readonly prefix: string;
  readonly maxAgeS?: number;
  readonly maxMsgsPerSubject?: number;
  readonly maxBytes?: number;
  readonly duplicateWindowS?: number;
  readonly replicas?: number;
}

/** Accepts the publisher config as is, or explicit options (for the edge's tests and standalone mode). */
export type EnsureStreamInput =
  | StreamOptions
  | {
      readonly subjectPrefix: string;
      readonly stream: {
        readonly name: string;
        readonly maxAgeS: number;
        readonly maxMsgsPerSubject: number;
        readonly maxBytes: number;
        readonly duplicateWindowS: number;
        readonly replicas: number;
      };
    };

export class StreamConfigError extends Error {
  readonly code = 'STREAM_CONFIG';
  constructor(message: string, opts?: ErrorOptions) {
    super(message, opts);
    this.name = 'StreamConfigError';
  }
}

export function streamOptions(input: EnsureStreamInput): StreamOptions {
  return 'subjectPrefix' in input ? { ...input.stream, prefix: input.subjectPrefix } : input;
}

/** The stream configuration Herald needs: capture `<prefix>.n.>`, republish to `<prefix>.live.>`. */
export function desiredStreamConfig(input: EnsureStreamInput): StreamConfig {
  const o = streamOptions(input);
  const src = spaceWildcard(o.prefix, 'n');
  return {
    name: o.name,
    description: 'Herald notifications: recent history for resume; republished live to edges',
    subjects: [src],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    num_replicas: o.replicas ?? 1,
    max_age: nanos((o.maxAgeS ?? 86_400) * 1000),
    max_msgs_per_subject: o.maxMsgsPerSubject ?? 1_000,
    max_bytes: o.maxBytes ?? 1024 ** 3,
    max_msgs: -1,
    max_msg_size: -1,
    max_consumers: -1,
    duplicate_window: nanos((o.duplicateWindowS ?? 120) * 1000),
    republish: { src, dest: spaceWildcard(o.prefix, 'live') },
    allow_direct: true,
    // Per-message TTL (ttl_s in the API); cannot be switched off again once on.
    allow_msg_ttl: true,
  } as StreamConfig;
}

export type EnsureResult = { action: 'created' | 'updated' | 'unchanged'; info: StreamInfo };

/**
 * Create or update the stream idempotently. Several publishers may start at once: a
 * losing create falls back to update. Fails with StreamConfigError when an existing
 * stream cannot be brought to the wanted shape (e.g. different storage).
 */
export async function ensureStream(jsm: JetStreamManager, input: EnsureStreamInput): Promise<EnsureResult> {
  const want = desiredStreamConfig(input);
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await info(jsm, want.name);
    if (!current) {
      try {
        return { action: 'created', info: await jsm.streams.add(want) };
      } catch (err) {
        // 10058: stream name already in use (another publisher created it first).
        if (attempt < 2 && err instanceof JetStreamApiError && err.code === 10058) continue;
        throw new StreamConfigError(`cannot create stream ${want.name}`, { cause: err });
      }
    }
    if (matches(current.config, want)) return { action: 'unchanged', info: current };
    if (current.config.storage !== want.storage) {
      throw new StreamConfigError(`stream ${want.name} exists with ${current.config.storage} storage; Herald needs file storage`);
    }
    const { name: _n, storage: _s, retention: _r, ...update } = want;
    try {
      return { action: 'updated', info: await jsm.streams.update(want.name, update) };
    } catch (err) {
      throw new StreamConfigError(`cannot update stream ${want.name}`, { cause: err });
    }
  }
  throw new StreamConfigError(`cannot create stream ${want.name}: name in use`);
}

async function info(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return undefined;
    throw err;
  }
}

const COMPARED = [
  'subjects',
  'retention',
  'storage',
  'discard',
  'num_replicas',
  'max_age',
  'max_msgs_per_subject',
  'max_bytes',
  'duplicate_window',
  'republish',
  'allow_direct',
  'allow_msg_ttl',
] as const;

function matches(have: StreamConfig, want: StreamConfig): boolean {
  return COMPARED.every((k) => JSON.stringify(normalise(have[k])) === JSON.stringify(normalise(want[k])));
}

function normalise(v: unknown): unknown {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    // The server adds `headers_only: false` to republish; compare only what we set.
    const o = v as Record<string, unknown>;
    return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== false && x !== undefined).sort(([a], [b]) => a.localeCompare(b)));
  }
  return v ?? false;
}
