import { readFileSync } from 'node:fs';
import { tracingEnabled } from '@herald/telemetry';

/**
 * Edge configuration: one pure function from the environment to a frozen, validated
 * object. Every setting is `HERALD_<NAME>`; unknown HERALD_* keys are an error so a
 * typo never silently falls back to a default.
 */

export type Algorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'HS256' | 'HS384' | 'HS512';

const ASYMMETRIC: readonly Algorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const SYMMETRIC: readonly Algorithm[] = ['HS256', 'HS384', 'HS512'];

export interface NatsSettings {
  readonly url: string | undefined;
  readonly token: string | undefined;
  readonly user: string | undefined;
  readonly password: string | undefined;
  readonly credsFile: string | undefined;
  readonly tlsCaFile: string | undefined;
  readonly tlsCertFile: string | undefined;
  readonly tlsKeyFile: string | undefined;
  readonly name: string;
}

export interface JwtSettings {
  readonly jwksUrl: string | undefined;
  readonly publicKey: string | undefined;
  readonly secret: string | undefined;
  readonly algorithms: readonly Algorithm[];
  readonly issuer: string;
  readonly audience: string;
  readonly tenantClaim: string;
  readonly rolesClaim: string;
  readonly roomsClaim: string;
  readonly clockToleranceS: number;
  /** Minimum time between JWKS refetches triggered by an unknown `kid`. */
  readonly jwksCooldownS: number;
}

export interface EdgeConfig {
  readonly production: boolean;
  readonly host: string;
  readonly port: number;
  readonly internalPort: number;
  readonly nats: NatsSettings;
  readonly subjectPrefix: string;
  readonly streamName: string;
  readonly jwt: JwtSettings;
  /** Roles that join the tenant room; `*` means every member. */
  readonly tenantRoomRoles: readonly string[];
  readonly globalRoomRoles: readonly string[];
  readonly allowedOrigins: readonly string[];
  readonly requireOrigin: boolean;
  readonly authTimeoutMs: number;
  readonly idleTimeoutS: number;
  readonly sseHeartbeatS: number;
  readonly maxPayload: number;
  readonly maxBackpressure: number;
  readonly slowConsumerCheckMs: number;
  readonly msgRate: number;
  readonly msgBurst: number;
  readonly connectRatePerIp: number;
  readonly connectBurstPerIp: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerUser: number;
  readonly maxConnectionsPerTenant: number;
  readonly unsubscribeDelayMs: number;
  readonly drainDelayS: number;
  readonly drainWindowS: number;
  readonly shutdownTimeoutS: number;
  readonly logLevel: string;
  readonly trustProxy: boolean;
  readonly tenantMetrics: boolean;
  readonly tenantMetricsMax: number;
  readonly demo: boolean;
  /** OTLP tracing on (standard OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT set). */
  readonly tracing: boolean;
  /** Resume: most notifications one resume replays before it sends `gap` instead. */
  readonly resumeMaxMessages: number;
  /** Resume replays running at once per pod; the rest queue (FIFO). */
  readonly resumeConcurrency: number;
  /** Resumes allowed to wait; beyond, RATE_LIMITED (the client backs off and retries). */
  readonly resumeQueueMax: number;
  /** A NATS outage longer than this closes affected connections (SHUTDOWN) instead of replaying. */
  readonly natsOutageMaxS: number;
  /** Send `reauth` this many seconds before expiry (at most 10 % of the token's lifetime, at least 1 s). */
  readonly reauthBeforeS: number;
  /** NATS KV bucket the publisher writes revocations to (edges read and watch it). */
  readonly revocationsBucket: string;
  /** NATS KV bucket for one-time tickets (edges create and consume). */
  readonly ticketsBucket: string;
  readonly ticketTtlS: number;
  /** Token verifications in flight per pod; more wait their turn (a storm must not starve delivery). */
  readonly authConcurrency: number;
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Every key this service reads; anything else under HERALD_ is rejected. */
export const EDGE_KEYS = [
  'HOST', 'PORT', 'INTERNAL_PORT',
  'NATS_URL', 'NATS_TOKEN', 'NATS_USER', 'NATS_PASSWORD', 'NATS_CREDS_FILE', 'NATS_TLS_CA_FILE', 'NATS_TLS_CERT_FILE', 'NATS_TLS_KEY_FILE', 'NATS_NAME',
  'SUBJECT_PREFIX', 'STREAM_NAME',
  'JWT_JWKS_URL', 'JWT_PUBLIC_KEY', 'JWT_PUBLIC_KEY_FILE', 'JWT_SECRET', 'JWT_ALGORITHMS', 'JWT_ISSUER', 'JWT_AUDIENCE',
  'JWT_TENANT_CLAIM', 'JWT_ROLES_CLAIM', 'JWT_ROOMS_CLAIM', 'JWT_CLOCK_TOLERANCE_S', 'JWT_JWKS_COOLDOWN_S',
  'TENANT_ROOM_ROLES', 'GLOBAL_ROOM_ROLES', 'ALLOWED_ORIGINS', 'REQUIRE_ORIGIN',
  'AUTH_TIMEOUT_MS', 'IDLE_TIMEOUT_S', 'SSE_HEARTBEAT_S', 'MAX_PAYLOAD', 'MAX_BACKPRESSURE', 'SLOW_CONSUMER_CHECK_MS',
  'MSG_RATE', 'MSG_BURST', 'CONNECT_RATE_PER_IP', 'CONNECT_BURST_PER_IP',
  'MAX_CONNECTIONS', 'MAX_CONNECTIONS_PER_USER', 'MAX_CONNECTIONS_PER_TENANT',
  'UNSUBSCRIBE_DELAY_MS', 'DRAIN_DELAY_S', 'DRAIN_WINDOW_S', 'SHUTDOWN_TIMEOUT_S',
  'LOG_LEVEL', 'TRUST_PROXY', 'TENANT_METRICS', 'TENANT_METRICS_MAX', 'DEMO',
  'RESUME_MAX_MESSAGES', 'RESUME_CONCURRENCY', 'RESUME_QUEUE_MAX', 'NATS_OUTAGE_MAX_S', 'REAUTH_BEFORE_S',
  'REVOCATIONS_BUCKET', 'TICKETS_BUCKET', 'TICKET_TTL_S', 'AUTH_CONCURRENCY',
] as const;

const BUCKET_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export class EnvReader {
  readonly problems: string[] = [];
  constructor(
    private readonly env: Readonly<Record<string, string | undefined>>,
    private readonly known: readonly string[],
    private readonly prefix = 'HERALD_',
  ) {
    const allowed = new Set(known.map((k) => prefix + k));
    for (const key of Object.keys(env)) {
      if (key.startsWith(prefix) && !allowed.has(key) && !EXTERNAL_HERALD_KEYS.has(key)) {
        this.problems.push(`${key} is not a known setting (typo?)`);
      }
    }
  }

  raw(key: string): string | undefined {
    const v = this.env[this.prefix + key];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  str(key: string, def: string): string {
    return this.raw(key) ?? def;
  }

  int(key: string, def: number, min: number, max: number): number {
    const v = this.raw(key);
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.problems.push(`${this.prefix}${key} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
      return def;
    }
    return n;
  }

  num(key: string, def: number, min: number, max: number): number {
    const v = this.raw(key);
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) {
      this.problems.push(`${this.prefix}${key} must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
      return def;
    }
    return n;
  }

  bool(key: string, def: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined) return def;
    if (/^(1|true|yes|on)$/i.test(v)) return true;
    if (/^(0|false|no|off)$/i.test(v)) return false;
    this.problems.push(`${this.prefix}${key} must be true or false, got ${JSON.stringify(v)}`);
    return def;
  }

  list(key: string, def: readonly string[]): string[] {
    const v = this.raw(key);
    if (v === undefined) return [...def];
    return v.split(',').map((s) => s.trim()).filter(Boolean);
  }

  fail(problem: string): void {
    this.problems.push(problem);
  }
}

/** HERALD_* variables read by other tools in the same environment (tests, scripts), not settings. */
const EXTERNAL_HERALD_KEYS = new Set(['HERALD_TOOLS']);

const ORIGIN_PATTERN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/;

export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env, readFile?: (path: string) => string): EdgeConfig {
  const r = new EnvReader(env, EDGE_KEYS);
  const production = env.NODE_ENV === 'production';

  const publicKeyFile = r.raw('JWT_PUBLIC_KEY_FILE');
  let publicKey = r.raw('JWT_PUBLIC_KEY');
  if (publicKeyFile) {
    if (publicKey) r.fail('set only one of HERALD_JWT_PUBLIC_KEY and HERALD_JWT_PUBLIC_KEY_FILE');
    try {
      publicKey = (readFile ?? ((p: string) => readFileSync(p, 'utf8')))(publicKeyFile);
    } catch {
      r.fail(`HERALD_JWT_PUBLIC_KEY_FILE cannot be read: ${publicKeyFile}`);
    }
  }
  const jwksUrl = r.raw('JWT_JWKS_URL');
  const secret = r.raw('JWT_SECRET');
  const keySources = [jwksUrl, publicKey, secret].filter(Boolean).length;
  if (keySources === 0) r.fail('one of HERALD_JWT_JWKS_URL, HERALD_JWT_PUBLIC_KEY(_FILE) or HERALD_JWT_SECRET is required');
  if (keySources > 1) r.fail('set exactly one of HERALD_JWT_JWKS_URL, HERALD_JWT_PUBLIC_KEY(_FILE), HERALD_JWT_SECRET');
  if (secret && production) r.fail('HERALD_JWT_SECRET (HS256) is for development only and is refused when NODE_ENV=production');
  if (secret && secret.length < 32) r.fail('HERALD_JWT_SECRET must be at least 32 characters');
  if (jwksUrl) {
    try {
      const u = new URL(jwksUrl);
      if (u.protocol !== 'https:' && (production || u.protocol !== 'http:')) r.fail('HERALD_JWT_JWKS_URL must be https (http allowed outside production)');
    } catch {
      r.fail('HERALD_JWT_JWKS_URL is not a URL');
    }
  }

  const defaultAlgs: Algorithm[] = secret ? ['HS256'] : ['RS256', 'ES256', 'EdDSA'];
  const algorithms = r.list('JWT_ALGORITHMS', defaultAlgs) as Algorithm[];
  for (const alg of algorithms) {
    if (!ASYMMETRIC.includes(alg) && !SYMMETRIC.includes(alg)) r.fail(`HERALD_JWT_ALGORITHMS: ${alg} is not allowed (alg none is never allowed)`);
    else if (secret && !SYMMETRIC.includes(alg)) r.fail(`HERALD_JWT_ALGORITHMS: ${alg} cannot be used with HERALD_JWT_SECRET`);
    else if (!secret && SYMMETRIC.includes(alg)) r.fail(`HERALD_JWT_ALGORITHMS: ${alg} needs HERALD_JWT_SECRET; mixing symmetric and public keys allows algorithm confusion`);
  }
  const issuer = r.raw('JWT_ISSUER');
  const audience = r.raw('JWT_AUDIENCE');
  if (!issuer) r.fail('HERALD_JWT_ISSUER is required');
  if (!audience) r.fail('HERALD_JWT_AUDIENCE is required');

  const allowedOrigins = r.list('ALLOWED_ORIGINS', []);
  for (const o of allowedOrigins) {
    if (o === '*' || o.includes('*')) r.fail('HERALD_ALLOWED_ORIGINS: wildcards are not allowed; list exact origins');
    else if (!ORIGIN_PATTERN.test(o)) r.fail(`HERALD_ALLOWED_ORIGINS: ${o} is not an origin (scheme://host[:port])`);
  }

  const prefix = r.str('SUBJECT_PREFIX', 'herald');
  if (!/^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,3}$/.test(prefix)) r.fail('HERALD_SUBJECT_PREFIX must be dot-separated [A-Za-z0-9_-] tokens');

  const idleTimeoutS = r.int('IDLE_TIMEOUT_S', 60, 8, 960);
  const drainDelayS = r.int('DRAIN_DELAY_S', 5, 0, 300);
  const drainWindowS = r.int('DRAIN_WINDOW_S', 20, 0, 600);
  const demo = r.bool('DEMO', false);
  if (demo && production) r.fail('HERALD_DEMO is refused when NODE_ENV=production');

  const config: EdgeConfig = {
    production,
    host: r.str('HOST', '0.0.0.0'),
    port: r.int('PORT', 8080, 0, 65535),
    internalPort: r.int('INTERNAL_PORT', 9090, 0, 65535),
    nats: {
      url: r.raw('NATS_URL'),
      token: r.raw('NATS_TOKEN'),
      user: r.raw('NATS_USER'),
      password: r.raw('NATS_PASSWORD'),
      credsFile: r.raw('NATS_CREDS_FILE'),
      tlsCaFile: r.raw('NATS_TLS_CA_FILE'),
      tlsCertFile: r.raw('NATS_TLS_CERT_FILE'),
      tlsKeyFile: r.raw('NATS_TLS_KEY_FILE'),
      name: r.str('NATS_NAME', 'herald-edge'),
    },
    subjectPrefix: prefix,
    streamName: r.str('STREAM_NAME', 'HERALD'),
    jwt: {
      jwksUrl,
      publicKey,
      secret,
      algorithms,
      issuer: issuer ?? '',
      audience: audience ?? '',
      tenantClaim: r.str('JWT_TENANT_CLAIM', 'tid'),
      rolesClaim: r.str('JWT_ROLES_CLAIM', 'roles'),
      roomsClaim: r.str('JWT_ROOMS_CLAIM', 'rooms'),
      clockToleranceS: r.int('JWT_CLOCK_TOLERANCE_S', 30, 0, 300),
      jwksCooldownS: r.int('JWT_JWKS_COOLDOWN_S', 30, 0, 3600),
    },
    tenantRoomRoles: r.list('TENANT_ROOM_ROLES', ['admin']),
    globalRoomRoles: r.list('GLOBAL_ROOM_ROLES', ['super_admin']),
    allowedOrigins,
    requireOrigin: r.bool('REQUIRE_ORIGIN', false),
    authTimeoutMs: r.int('AUTH_TIMEOUT_MS', 10_000, 100, 120_000),
    idleTimeoutS,
    sseHeartbeatS: r.int('SSE_HEARTBEAT_S', 15, 1, 300),
    maxPayload: r.int('MAX_PAYLOAD', 16_384, 512, 1_048_576),
    maxBackpressure: r.int('MAX_BACKPRESSURE', 1_048_576, 65_536, 64 * 1_048_576),
    slowConsumerCheckMs: r.int('SLOW_CONSUMER_CHECK_MS', 500, 10, 60_000),
    msgRate: r.num('MSG_RATE', 10, 0.1, 10_000),
    msgBurst: r.int('MSG_BURST', 20, 1, 100_000),
    connectRatePerIp: r.num('CONNECT_RATE_PER_IP', 20, 0.1, 1_000_000),
    connectBurstPerIp: r.int('CONNECT_BURST_PER_IP', 50, 1, 1_000_000),
    maxConnections: r.int('MAX_CONNECTIONS', 19_000, 1, 10_000_000),
    maxConnectionsPerUser: r.int('MAX_CONNECTIONS_PER_USER', 20, 1, 1_000_000),
    maxConnectionsPerTenant: r.int('MAX_CONNECTIONS_PER_TENANT', 100_000, 1, 10_000_000),
    unsubscribeDelayMs: r.int('UNSUBSCRIBE_DELAY_MS', 1_000, 0, 600_000),
    drainDelayS,
    drainWindowS,
    shutdownTimeoutS: r.int('SHUTDOWN_TIMEOUT_S', drainDelayS + drainWindowS + 10, 1, 3_600),
    logLevel: r.str('LOG_LEVEL', 'info'),
    trustProxy: r.bool('TRUST_PROXY', false),
    tenantMetrics: r.bool('TENANT_METRICS', false),
    tenantMetricsMax: r.int('TENANT_METRICS_MAX', 50, 1, 10_000),
    demo,
    tracing: tracingEnabled(env),
    resumeMaxMessages: r.int('RESUME_MAX_MESSAGES', 10_000, 1, 1_000_000),
    resumeConcurrency: r.int('RESUME_CONCURRENCY', 16, 1, 10_000),
    resumeQueueMax: r.int('RESUME_QUEUE_MAX', 20_000, 0, 1_000_000),
    natsOutageMaxS: r.int('NATS_OUTAGE_MAX_S', 120, 0, 86_400),
    reauthBeforeS: r.int('REAUTH_BEFORE_S', 60, 1, 3_600),
    revocationsBucket: r.str('REVOCATIONS_BUCKET', 'HERALD_REVOCATIONS'),
    ticketsBucket: r.str('TICKETS_BUCKET', 'HERALD_TICKETS'),
    ticketTtlS: r.int('TICKET_TTL_S', 30, 1, 300),
    authConcurrency: r.int('AUTH_CONCURRENCY', 8, 1, 10_000),
  };
  if (!BUCKET_PATTERN.test(config.revocationsBucket)) r.fail('HERALD_REVOCATIONS_BUCKET must be [A-Za-z0-9_-]{1,64}');
  if (!BUCKET_PATTERN.test(config.ticketsBucket)) r.fail('HERALD_TICKETS_BUCKET must be [A-Za-z0-9_-]{1,64}');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(config.logLevel)) r.fail('HERALD_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent');
  if (config.shutdownTimeoutS <= drainDelayS + drainWindowS) r.fail('HERALD_SHUTDOWN_TIMEOUT_S must exceed HERALD_DRAIN_DELAY_S + HERALD_DRAIN_WINDOW_S');
  if (r.problems.length) throw new ConfigError(r.problems);
  return deepFreeze(config);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/** The effective configuration with secrets masked, for --check-config. */
export function describeConfig(config: EdgeConfig): Record<string, unknown> {
  const mask = (v: string | undefined) => (v ? '***' : undefined);
  return {
    ...config,
    nats: { ...config.nats, token: mask(config.nats.token), password: mask(config.nats.password) },
    jwt: { ...config.jwt, secret: mask(config.jwt.secret), publicKey: config.jwt.publicKey ? '(PEM, masked)' : undefined },
  };
}
