import { createPublicKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { isValidId } from '@herald/protocol';
import type { JwtSettings } from './config.js';

/** Who a connection is, parsed once from a verified token. */
export interface Identity {
  readonly sub: string;
  readonly tenant: string;
  readonly roles: readonly string[];
  /** Named rooms the token allows the client to subscribe to. */
  readonly grantedRooms: ReadonlySet<string>;
  /** Expiry, seconds since the epoch. */
  readonly exp: number;
  readonly jti: string | undefined;
  /** Issued-at, seconds since the epoch (revocations apply to tokens issued at or before them). */
  readonly iat: number | undefined;
}

export type AuthFailure = 'expired' | 'signature' | 'algorithm' | 'claims' | 'malformed' | 'identifier' | 'keys_unavailable';

/** A token was refused. `reason` is for the log only; clients get the generic AUTH_FAILED text. */
export class AuthError extends Error {
  readonly code = 'AUTH_FAILED';
  constructor(
    readonly reason: AuthFailure,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(detail, options);
    this.name = 'AuthError';
  }
}

type KeyInput = Uint8Array | KeyObject | ReturnType<typeof createRemoteJWKSet>;

export interface Authenticator {
  verify(token: string): Promise<Identity>;
}

/**
 * Verifies client JWTs with jose against a JWKS URL (cached; unknown kid triggers a
 * refetch after a cooldown, which is how key rotation is picked up), a PEM public key,
 * or a dev-only HS256 secret. Algorithms are an explicit allow-list that never mixes
 * symmetric and asymmetric families, so `none` and HS/RS confusion cannot verify.
 */
export function createAuthenticator(settings: JwtSettings): Authenticator {
  let key: KeyInput;
  if (settings.jwksUrl) {
    key = createRemoteJWKSet(new URL(settings.jwksUrl), { cooldownDuration: settings.jwksCooldownS * 1000, cacheMaxAge: 10 * 60_000, timeoutDuration: 5_000 });
  } else if (settings.publicKey) {
    key = createPublicKey(settings.publicKey);
  } else if (settings.secret) {
    key = new TextEncoder().encode(settings.secret);
  } else {
    throw new Error('no JWT key source configured');
  }
  const options = {
    issuer: settings.issuer,
    audience: settings.audience,
    algorithms: [...settings.algorithms],
    clockTolerance: settings.clockToleranceS,
    requiredClaims: ['exp', 'sub', 'iss', 'aud'],
  };

  return {
    async verify(token: string): Promise<Identity> {
      let payload: JWTPayload;
      try {
        // The overloads differ only by key type; the union is handled identically at run time.
        payload = (await jwtVerify(token, key as Uint8Array, options)).payload;
      } catch (err) {
        throw classify(err);
      }
      return toIdentity(payload, settings);
    },
  };
}

function classify(err: unknown): AuthError {
  if (err instanceof joseErrors.JWTExpired) return new AuthError('expired', 'token expired', { cause: err });
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return new AuthError('signature', 'signature verification failed', { cause: err });
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return new AuthError('algorithm', 'algorithm not allowed', { cause: err });
  if (err instanceof joseErrors.JWTClaimValidationFailed) return new AuthError('claims', `claim check failed: ${err.claim} ${err.reason}`, { cause: err });
  if (err instanceof joseErrors.JWKSNoMatchingKey) return new AuthError('signature', 'no matching key in JWKS', { cause: err });
  if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid) return new AuthError('keys_unavailable', 'JWKS unavailable', { cause: err });
  if (err instanceof joseErrors.JOSEError) return new AuthError('malformed', `${err.code}`, { cause: err });
  return new AuthError('malformed', 'token could not be verified', { cause: err });
}

/** Shared by every identity without a rooms claim: most connections, no Set each. */
const NO_ROOMS: ReadonlySet<string> = new Set();

function toIdentity(p: JWTPayload, s: JwtSettings): Identity {
  const sub = p.sub;
  const tenant = p[s.tenantClaim];
  if (!isValidId(sub)) throw new AuthError('identifier', 'sub is not a valid identifier');
  if (!isValidId(tenant)) throw new AuthError('identifier', `${s.tenantClaim} missing or not a valid identifier`);
  const rolesRaw = p[s.rolesClaim];
  let roles: string[] = [];
  if (typeof rolesRaw === 'string') roles = rolesRaw.split(/\s+/).filter(Boolean);
  else if (Array.isArray(rolesRaw)) roles = rolesRaw.filter((r): r is string => typeof r === 'string');
  else if (rolesRaw !== undefined) throw new AuthError('claims', `${s.rolesClaim} must be a list`);
  const roomsRaw = p[s.roomsClaim];
  let granted: ReadonlySet<string> = NO_ROOMS;
  if (roomsRaw !== undefined) {
    const set = new Set<string>();
    granted = set;
    if (!Array.isArray(roomsRaw) || roomsRaw.length > 256) throw new AuthError('claims', `${s.roomsClaim} must be a list of at most 256 names`);
    for (const r of roomsRaw) {
      if (!isValidId(r)) throw new AuthError('identifier', `${s.roomsClaim} holds an invalid room name`);
      set.add(r);
    }
  }
  return {
    sub,
    tenant,
    roles,
    grantedRooms: granted,
    exp: p.exp as number,
    jti: typeof p.jti === 'string' ? p.jti : undefined,
    iat: typeof p.iat === 'number' && Number.isFinite(p.iat) ? p.iat : undefined,
  };
}
