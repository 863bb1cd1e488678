import { readFileSync } from 'node:fs';
import { checkPrefix, isValidId } from '@herald/protocol';

/** Per-tenant token bucket: `rate` tokens per second, at most `burst` saved up. */
export interface RateSpec {
  readonly rate: number;
  readonly burst: number;
}

export interface PublisherConfig {
  readonly host: string;
  readonly port: number;
  readonly internalPort: number;
  readonly production: boolean;
  readonly logLevel: string;
  readonly trustProxy: boolean;
  readonly nats: {
    readonly url: string;
    readonly token?: string;
    readonly user?: string;
    readonly password?: string;
    readonly credsFile?: string;
    readonly tlsCaFile?: string;
  };
  readonly subjectPrefix: string;
  readonly stream: {
    readonly name: string;
    readonly maxAgeS: number;
    readonly maxMsgsPerSubject: number;
    readonly maxBytes: number;
    readonly duplicateWindowS: number;
    readonly replicas: number;
  };
  readonly jwt: {
    readonly jwksUrl?: string;
    readonly publicKey?: string;
    readonly secret?: string;
    readonly algorithms: readonly string[];
    readonly issuer: string;
    readonly audience: string;
    readonly tenantsClaim: string;
    readonly clockToleranceS: number;
  };
  readonly limits: {
    readonly bodyLimit: number;
    readonly batchBodyLimit: number;
    readonly batchMax: number;
    readonly dataMaxDepth: number;
    readonly dataMaxKeys: number;
    readonly dataMaxBytes: number;
  };
  readonly sanitize: {
    readonly allowedTags: readonly string[];
    /** tag → allowed attribute names */
    readonly allowedAttributes: Readonly<Record<string, readonly string[]>>;
  };
  readonly rateLimit: {
    readonly default: RateSpec;
    readonly overrides: Readonly<Record<string, RateSpec>>;
  };
  readonly publishTimeoutMs: number;
  readonly retryAfterS: number;
  /** NATS KV bucket for revocations; must match the edges' HERALD_REVOCATIONS_BUCKET. */
  readonly revocationsBucket: string;
  readonly drainDelayS: number;
  readonly shutdownTimeoutS: number;
  /** True when OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set: spans are exported and traceparent injected. */
  readonly tracing: boolean;
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const KNOWN = new Set([
  'HOST', 'PORT', 'INTERNAL_PORT', 'LOG_LEVEL', 'TRUST_PROXY',
  'NATS_URL', 'NATS_TOKEN', 'NATS_USER', 'NATS_PASSWORD', 'NATS_CREDS_FILE', 'NATS_TLS_CA_FILE',
  'SUBJECT_PREFIX', 'STREAM_NAME', 'STREAM_MAX_AGE_S', 'STREAM_MAX_MSGS_PER_SUBJECT', 'STREAM_MAX_BYTES',
  'STREAM_DUPLICATE_WINDOW_S', 'STREAM_REPLICAS',
  'JWT_JWKS_URL', 'JWT_PUBLIC_KEY', 'JWT_PUBLIC_KEY_FILE', 'JWT_SECRET', 'JWT_ALGORITHMS', 'JWT_ISSUER',
  'JWT_AUDIENCE', 'JWT_TENANTS_CLAIM', 'JWT_CLOCK_TOLERANCE_S',
  'BODY_LIMIT', 'BATCH_BODY_LIMIT', 'BATCH_MAX', 'DATA_MAX_DEPTH', 'DATA_MAX_KEYS', 'DATA_MAX_BYTES',
  'SANITIZE_ALLOWED_TAGS', 'SANITIZE_ALLOWED_ATTRIBUTES',
  'TENANT_RATE', 'TENANT_BURST', 'TENANT_RATE_OVERRIDES',
  'PUBLISH_TIMEOUT_MS', 'RETRY_AFTER_S', 'REVOCATIONS_BUCKET', 'DRAIN_DELAY_S', 'SHUTDOWN_TIMEOUT_S',
].map((k) => `HERALD_${k}`));

/** HERALD_* variables set for other tools (the Makefile exports HERALD_TOOLS), not settings. */
const EXTERNAL = new Set(['HERALD_TOOLS']);

const HMAC = ['HS256', 'HS384', 'HS512'];
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** Parse the environment into a frozen config. Pure apart from reading HERALD_JWT_PUBLIC_KEY_FILE. */
export function loadConfig(env: Record<string, string | undefined>): PublisherConfig {
  const problems: string[] = [];
  for (const key of Object.keys(env)) {
    if (key.startsWith('HERALD_') && !KNOWN.has(key) && !EXTERNAL.has(key)) problems.push(`unknown setting ${key}`);
  }
  const str = (name: string, def?: string): string | undefined => {
    const v = env[`HERALD_${name}`];
    return v === undefined || v === '' ? def : v;
  };
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = str(name);
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      problems.push(`HERALD_${name} must be an integer in [${min}, ${max}] (got ${JSON.stringify(raw)})`);
      return def;
    }
    return n;
  };
  const num = (name: string, def: number, min: number): number => {
    const raw = str(name);
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) {
      problems.push(`HERALD_${name} must be a number >= ${min}`);
      return def;
    }
    return n;
  };
  const bool = (name: string, def: boolean): boolean => {
    const raw = str(name);
    if (raw === undefined) return def;
    if (/^(1|true|yes)$/i.test(raw)) return true;
    if (/^(0|false|no)$/i.test(raw)) return false;
    problems.push(`HERALD_${name} must be true or false`);
    return def;
  };
  const list = (name: string): string[] =>
    (str(name) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);

  const production = env.NODE_ENV === 'production';

  const subjectPrefix = str('SUBJECT_PREFIX', 'herald')!;
  try {
    checkPrefix(subjectPrefix);
  } catch {
    problems.push('HERALD_SUBJECT_PREFIX must be dot-separated tokens of [A-Za-z0-9_-]');
  }
  const streamName = str('STREAM_NAME', 'HERALD')!;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(streamName)) problems.push('HERALD_STREAM_NAME must match [A-Za-z0-9_-]{1,64}');

  const natsUser = str('NATS_USER');
  const natsPassword = str('NATS_PASSWORD');
  if ((natsUser === undefined) !== (natsPassword === undefined)) {
    problems.push('HERALD_NATS_USER and HERALD_NATS_PASSWORD go together');
  }
  const natsAuthKinds = [str('NATS_TOKEN'), natsUser, str('NATS_CREDS_FILE')].filter((v) => v !== undefined).length;
  if (natsAuthKinds > 1) problems.push('choose one of HERALD_NATS_TOKEN, HERALD_NATS_USER/PASSWORD, HERALD_NATS_CREDS_FILE');

  // Service-token verification key: JWKS URL, then PEM, then (dev only) an HS256 secret.
  const jwksUrl = str('JWT_JWKS_URL');
  let publicKey = str('JWT_PUBLIC_KEY');
  const publicKeyFile = str('JWT_PUBLIC_KEY_FILE');
  if (publicKey === undefined && publicKeyFile !== undefined) {
    try {
      publicKey = readFileSync(publicKeyFile, 'utf8');
    } catch {
      problems.push(`HERALD_JWT_PUBLIC_KEY_FILE cannot be read`);
    }
  }
  const secret = str('JWT_SECRET');
  const keyKinds = [jwksUrl, publicKey, secret].filter((v) => v !== undefined).length;
  if (keyKinds === 0) problems.push('one of HERALD_JWT_JWKS_URL, HERALD_JWT_PUBLIC_KEY(_FILE) or HERALD_JWT_SECRET is required');
  if (keyKinds > 1) problems.push('set only one of HERALD_JWT_JWKS_URL, HERALD_JWT_PUBLIC_KEY(_FILE), HERALD_JWT_SECRET');
  if (jwksUrl !== undefined) {
    try {
      const u = new URL(jwksUrl);
      if (u.protocol !== 'https:' && production) problems.push('HERALD_JWT_JWKS_URL must be https in production');
      if (u.protocol !== 'https:' && u.protocol !== 'http:') problems.push('HERALD_JWT_JWKS_URL must be an http(s) URL');
    } catch {
      problems.push('HERALD_JWT_JWKS_URL is not a URL');
    }
  }
  if (secret !== undefined) {
    if (production) problems.push('HERALD_JWT_SECRET (HS256) is for development only and refused when NODE_ENV=production');
    if (secret.length < 32) problems.push('HERALD_JWT_SECRET must be at least 32 characters');
  }
  const algDefault = secret !== undefined ? ['HS256'] : ['RS256', 'ES256', 'EdDSA'];
  const algorithms = list('JWT_ALGORITHMS').length > 0 ? list('JWT_ALGORITHMS') : algDefault;
  for (const alg of algorithms) {
    if (secret !== undefined ? !HMAC.includes(alg) : !ASYMMETRIC.includes(alg)) {
      problems.push(`HERALD_JWT_ALGORITHMS: ${alg} is not allowed with the configured key type`);
    }
  }
  const issuer = str('JWT_ISSUER');
  if (issuer === undefined) problems.push('HERALD_JWT_ISSUER is required');

  const allowedAttributes: Record<string, string[]> = {};
  for (const part of (str('SANITIZE_ALLOWED_ATTRIBUTES') ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z][a-z0-9]*)=([a-z0-9_|:-]+)$/i.exec(part);
    if (!m) {
      problems.push('HERALD_SANITIZE_ALLOWED_ATTRIBUTES must look like "a=href|title,span=class"');
      continue;
    }
    allowedAttributes[m[1]!.toLowerCase()] = m[2]!.split('|').filter(Boolean);
  }
  const allowedTags = list('SANITIZE_ALLOWED_TAGS').map((t) => t.toLowerCase());
  for (const t of allowedTags) {
    if (!/^[a-z][a-z0-9]*$/.test(t)) problems.push(`HERALD_SANITIZE_ALLOWED_TAGS: bad tag ${JSON.stringify(t)}`);
    if (t === 'script' || t === 'style' || t === 'iframe') problems.push(`HERALD_SANITIZE_ALLOWED_TAGS: ${t} can never be allowed`);
  }

  const rateDefault: RateSpec = { rate: num('TENANT_RATE', 100, 0.001), burst: num('TENANT_BURST', 200, 1) };
  const overrides: Record<string, RateSpec> = Object.create(null) as Record<string, RateSpec>;
  for (const part of list('TENANT_RATE_OVERRIDES')) {
    const m = /^([^=]+)=(\d+(?:\.\d+)?):(\d+)$/.exec(part);
    if (!m || !isValidId(m[1]) || Number(m[2]) <= 0 || Number(m[3]) < 1) {
      problems.push('HERALD_TENANT_RATE_OVERRIDES must look like "acme=500:1000,beta=5:10" (tenant=rate:burst)');
      continue;
    }
    overrides[m[1]!] = { rate: Number(m[2]), burst: Number(m[3]) };
  }

  const drainDelayS = int('DRAIN_DELAY_S', 5, 0, 600);
  const config: PublisherConfig = {
    host: str('HOST', '0.0.0.0')!,
    port: int('PORT', 8081, 0, 65535),
    internalPort: int('INTERNAL_PORT', 9090, 0, 65535),
    production,
    logLevel: str('LOG_LEVEL', 'info')!,
    trustProxy: bool('TRUST_PROXY', false),
    nats: {
      url: str('NATS_URL', 'nats://127.0.0.1:4222')!,
      token: str('NATS_TOKEN'),
      user: natsUser,
      password: natsPassword,
      credsFile: str('NATS_CREDS_FILE'),
      tlsCaFile: str('NATS_TLS_CA_FILE'),
    },
    subjectPrefix,
    stream: {
      name: streamName,
      maxAgeS: int('STREAM_MAX_AGE_S', 86_400, 1, 365 * 86_400),
      maxMsgsPerSubject: int('STREAM_MAX_MSGS_PER_SUBJECT', 1_000, -1, 1e9),
      maxBytes: int('STREAM_MAX_BYTES', 1024 ** 3, -1, Number.MAX_SAFE_INTEGER),
      duplicateWindowS: int('STREAM_DUPLICATE_WINDOW_S', 120, 1, 86_400),
      replicas: int('STREAM_REPLICAS', 1, 1, 5),
    },
    jwt: {
      jwksUrl,
      publicKey,
      secret,
      algorithms,
      issuer: issuer ?? '',
      audience: str('JWT_AUDIENCE', 'herald-publisher')!,
      tenantsClaim: str('JWT_TENANTS_CLAIM', 'tenants')!,
      clockToleranceS: int('JWT_CLOCK_TOLERANCE_S', 30, 0, 300),
    },
    limits: {
      bodyLimit: int('BODY_LIMIT', 64 * 1024, 1024, 16 * 1024 * 1024),
      batchBodyLimit: int('BATCH_BODY_LIMIT', 2 * 1024 * 1024, 1024, 64 * 1024 * 1024),
      batchMax: int('BATCH_MAX', 500, 1, 10_000),
      dataMaxDepth: int('DATA_MAX_DEPTH', 16, 1, 64),
      dataMaxKeys: int('DATA_MAX_KEYS', 1_000, 1, 100_000),
      dataMaxBytes: int('DATA_MAX_BYTES', 32 * 1024, 64, 1024 * 1024),
    },
    sanitize: { allowedTags, allowedAttributes },
    rateLimit: { default: rateDefault, overrides },
    publishTimeoutMs: int('PUBLISH_TIMEOUT_MS', 5_000, 100, 60_000),
    retryAfterS: int('RETRY_AFTER_S', 2, 1, 3600),
    revocationsBucket: str('REVOCATIONS_BUCKET', 'HERALD_REVOCATIONS')!,
    drainDelayS,
    shutdownTimeoutS: int('SHUTDOWN_TIMEOUT_S', drainDelayS + 25, 1, 3600),
    tracing: Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT),
  };
  if (config.stream.duplicateWindowS > config.stream.maxAgeS) {
    problems.push('HERALD_STREAM_DUPLICATE_WINDOW_S cannot exceed HERALD_STREAM_MAX_AGE_S');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

/** The effective config as printed by `--check-config`: secrets masked. */
export function describeConfig(config: PublisherConfig): Record<string, unknown> {
  const mask = (v: string | undefined) => (v === undefined ? undefined : '***');
  return {
    ...config,
    nats: { ...config.nats, token: mask(config.nats.token), password: mask(config.nats.password) },
    jwt: { ...config.jwt, secret: mask(config.jwt.secret), publicKey: config.jwt.publicKey ? '(PEM set)' : undefined },
  };
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
