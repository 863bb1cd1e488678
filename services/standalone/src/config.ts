import { randomBytes } from 'node:crypto';
import { EDGE_KEYS, loadConfig as loadEdgeConfig, type EdgeConfig } from '@herald/edge';
import { loadConfig as loadPublisherConfig, type PublisherConfig } from '@herald/publisher';

/**
 * One environment, two services. Every setting keeps the name the edge and publisher
 * read. Where both read a name with a different meaning (their public and internal
 * ports, the audience of their tokens) the publisher's copy is `HERALD_PUBLISHER_<NAME>`.
 * Unknown HERALD_* keys are still rejected: whatever the edge does not know goes to the
 * publisher, whose loadConfig refuses what it does not know either.
 */

/** Settings only standalone reads: the publisher's copies of names the edge also reads. */
export const PUBLISHER_OVERRIDES = ['PORT', 'INTERNAL_PORT', 'JWT_AUDIENCE'] as const;

/** Names both services read with the same meaning. */
const SHARED = new Set([
  'HOST', 'LOG_LEVEL', 'TRUST_PROXY', 'SUBJECT_PREFIX', 'STREAM_NAME',
  'JWT_JWKS_URL', 'JWT_PUBLIC_KEY', 'JWT_PUBLIC_KEY_FILE', 'JWT_SECRET', 'JWT_ALGORITHMS', 'JWT_ISSUER', 'JWT_CLOCK_TOLERANCE_S',
  'DRAIN_DELAY_S', 'SHUTDOWN_TIMEOUT_S',
]);

const EDGE = new Set<string>(EDGE_KEYS);

export class StandaloneConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'StandaloneConfigError';
  }
}

export interface StandaloneConfig {
  readonly edge: EdgeConfig;
  readonly publisher: PublisherConfig;
  /** True when no key source was configured and a random dev secret was generated for this run. */
  readonly devSecret: boolean;
  readonly history: { readonly maxMsgs: number; readonly maxBytes: number };
}

type Env = Readonly<Record<string, string | undefined>>;

/** Defaults that make `herald standalone` work with nothing set; anything set wins. */
export function withDefaults(env: Env, random = () => randomBytes(32).toString('base64url')): { env: Record<string, string | undefined>; devSecret: boolean } {
  const out: Record<string, string | undefined> = { ...env };
  const keySet = ['HERALD_JWT_JWKS_URL', 'HERALD_JWT_PUBLIC_KEY', 'HERALD_JWT_PUBLIC_KEY_FILE', 'HERALD_JWT_SECRET'].some((k) => env[k]);
  const devSecret = !keySet && env.NODE_ENV !== 'production';
  if (devSecret) {
    out.HERALD_JWT_SECRET = random();
    out.HERALD_JWT_ISSUER ??= 'https://standalone.herald.local';
    out.HERALD_JWT_AUDIENCE ??= 'herald';
  }
  out.HERALD_HOST ??= '127.0.0.1';
  out.HERALD_PORT ??= '8080';
  out.HERALD_INTERNAL_PORT ??= '9090';
  out.HERALD_PUBLISHER_PORT ??= '8081';
  out.HERALD_PUBLISHER_INTERNAL_PORT ??= '9091';
  if (env.NODE_ENV !== 'production') out.HERALD_DEMO ??= 'true';
  const port = out.HERALD_PORT;
  if (port !== '0') out.HERALD_ALLOWED_ORIGINS ??= `http://localhost:${port},http://127.0.0.1:${port}`;
  // One process: nothing to drain towards, so stop promptly.
  out.HERALD_DRAIN_DELAY_S ??= '0';
  out.HERALD_DRAIN_WINDOW_S ??= '1';
  return { env: out, devSecret };
}

/** Split one environment into the edge's and the publisher's, then load both with their own loadConfig. */
export function splitEnv(env: Env): { edge: Record<string, string | undefined>; publisher: Record<string, string | undefined> } {
  const edge: Record<string, string | undefined> = {};
  const publisher: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith('HERALD_')) {
      edge[key] = value;
      publisher[key] = value;
      continue;
    }
    const name = key.slice('HERALD_'.length);
    if (name.startsWith('PUBLISHER_') && (PUBLISHER_OVERRIDES as readonly string[]).includes(name.slice('PUBLISHER_'.length))) {
      publisher[`HERALD_${name.slice('PUBLISHER_'.length)}`] = value;
      continue;
    }
    if (EDGE.has(name)) {
      edge[key] = value;
      if (SHARED.has(name)) publisher[key] = value;
      continue;
    }
    publisher[key] = value;
  }
  return { edge, publisher };
}

export function loadStandaloneConfig(env: Env, random?: () => string): StandaloneConfig {
  for (const k of ['HERALD_NATS_URL', 'HERALD_NATS_TOKEN', 'HERALD_NATS_USER', 'HERALD_NATS_CREDS_FILE']) {
    if (env[k]) throw new StandaloneConfigError(`${k} is set: standalone runs without NATS (in-memory bus and history). Unset it, or run the edge and publisher separately.`);
  }
  const { env: full, devSecret } = withDefaults(env, random);
  const parts = splitEnv(full);
  // The publisher never connects in standalone; its NATS URL default is unused.
  return {
    edge: loadEdgeConfig(parts.edge),
    publisher: loadPublisherConfig(parts.publisher),
    devSecret,
    history: {
      maxMsgs: 100_000,
      // The stream default (1 GiB) is for disk; in memory keep 64 MiB unless told.
      maxBytes: full.HERALD_STREAM_MAX_BYTES ? Number(full.HERALD_STREAM_MAX_BYTES) : 64 * 1024 * 1024,
    },
  };
}
