import { createPublicKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { isValidId, MAX_TOKEN_LENGTH } from '@herald/protocol';
import type { PublisherConfig } from './config.js';
import { ProblemError } from './errors.js';

export const SCOPES = {
  publish: 'notify:publish',
  global: 'notify:global',
  revoke: 'notify:revoke',
} as const;
const KNOWN_SCOPES = new Set<string>(Object.values(SCOPES));

/** Who is calling: a back-end service, never an end user. */
export interface ServicePrincipal {
  readonly sub: string;
  readonly scopes: ReadonlySet<string>;
  /** Tenants this service may publish to; '*' for platform services. */
  readonly tenants: '*' | ReadonlySet<string>;
  readonly jti?: string;
}

export type ServiceTokenVerifier = (token: string) => Promise<ServicePrincipal>;

/**
 * Build the service-token verifier. Keys: JWKS URL (cached, rotated by jose), PEM, or
 * a dev-only HS secret (config refuses it in production). The algorithm allow-list
 * comes from config, so `none` and HS/RS confusion cannot happen.
 */
export function createVerifier(jwt: PublisherConfig['jwt']): ServiceTokenVerifier {
  let key: JWTVerifyGetKey | KeyObject | Uint8Array;
  if (jwt.jwksUrl) key = createRemoteJWKSet(new URL(jwt.jwksUrl), { cooldownDuration: 30_000, cacheMaxAge: 600_000 });
  else if (jwt.publicKey) key = createPublicKey(jwt.publicKey);
  else if (jwt.secret) key = new TextEncoder().encode(jwt.secret);
  else throw new Error('no service token key configured');
  const options = {
    algorithms: [...jwt.algorithms],
    issuer: jwt.issuer,
    audience: jwt.audience,
    clockTolerance: jwt.clockToleranceS,
    requiredClaims: ['iss', 'aud', 'exp', 'sub'],
  };
  // Services reuse one token for many requests: remember verified tokens briefly so the
  // signature is checked once per token per minute, not once per request. Expiry is
  // still enforced on every hit; the short TTL bounds how long a key removed from the
  // JWKS keeps working.
  const cache = new Map<string, { principal: ServicePrincipal; until: number }>();
  const CACHE_MAX = 10_000;
  const CACHE_TTL_MS = 60_000;
  return async (token) => {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw new ProblemError('invalid_token', { cause: new Error('token length') });
    const now = Date.now();
    const hit = cache.get(token);
    if (hit) {
      if (hit.until > now) return hit.principal;
      cache.delete(token);
    }
    let payload: JWTPayload;
    try {
      payload = typeof key === 'function' ? (await jwtVerify(token, key, options)).payload : (await jwtVerify(token, key, options)).payload;
    } catch (err) {
      throw new ProblemError('invalid_token', { cause: err });
    }
    const principal = principalFrom(payload, jwt.tenantsClaim);
    const expMs = typeof payload.exp === 'number' ? (payload.exp + jwt.clockToleranceS) * 1000 : now;
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(token, { principal, until: Math.min(expMs, now + CACHE_TTL_MS) });
    return principal;
  };
}

/**
 * Turn verified claims into a principal. A token without any notify:* scope is not a
 * service token (an end-user token signed by the same issuer), so it is refused as
 * invalid rather than as forbidden.
 */
export function principalFrom(payload: JWTPayload, tenantsClaim: string): ServicePrincipal {
  const bad = (why: string) => new ProblemError('invalid_token', { cause: new Error(why) });
  if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 256) throw bad('sub');
  const raw = (payload as Record<string, unknown>).scope ?? (payload as Record<string, unknown>).scopes;
  let scopes: string[];
  if (typeof raw === 'string') scopes = raw.split(' ').filter(Boolean);
  else if (Array.isArray(raw) && raw.every((s) => typeof s === 'string')) scopes = raw as string[];
  else throw bad('no scope claim: not a service token');
  if (!scopes.some((s) => KNOWN_SCOPES.has(s))) throw bad('no notify:* scope: not a service token');
  const t = (payload as Record<string, unknown>)[tenantsClaim];
  let tenants: '*' | ReadonlySet<string>;
  if (t === '*') tenants = '*';
  else if (t === undefined) tenants = new Set();
  else if (Array.isArray(t) && t.every((x) => isValidId(x) || x === '*')) tenants = t.includes('*') ? '*' : new Set(t as string[]);
  else throw bad('malformed tenants claim');
  return { sub: payload.sub, scopes: new Set(scopes), tenants, ...(typeof payload.jti === 'string' ? { jti: payload.jti } : {}) };
}

/** The bearer token from an Authorization header, if well-formed. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(header.trim());
  return m?.[1];
}

export function requireScope(p: ServicePrincipal, scope: string): void {
  if (!p.scopes.has(scope)) throw new ProblemError('missing_scope', { cause: new Error(`needs ${scope}`) });
}

export function requireTenant(p: ServicePrincipal, tenant: string): void {
  if (p.tenants !== '*' && !p.tenants.has(tenant)) throw new ProblemError('tenant_not_allowed', { cause: new Error(`tenant ${tenant}`) });
}
