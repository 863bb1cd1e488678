import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type JWK } from 'jose';
import { randomUUID } from 'node:crypto';

export const TEST_ISSUER = 'https://auth.test.herald';
export const TEST_AUDIENCE = 'herald';
/** HS256 secret used by tests and the demo (dev only; refused in production). */
export const TEST_SECRET = 'test-secret-that-is-at-least-32-bytes-long!!';

export interface ClientClaims {
  sub: string;
  tid?: string;
  roles?: string[];
  rooms?: string[];
  [k: string]: unknown;
}

export interface MintOptions {
  secret?: string;
  iss?: string;
  aud?: string;
  /** Seconds until expiry (negative for an already-expired token). Default 3600. */
  expiresIn?: number;
  alg?: string;
  kid?: string;
  jti?: string;
}

/** Sign a token with the shared HS256 test secret (or opts.secret). */
export async function mintToken(claims: ClientClaims, opts: MintOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ ...claims })
    .setProtectedHeader({ alg: opts.alg ?? 'HS256', ...(opts.kid ? { kid: opts.kid } : {}) })
    .setIssuedAt(now)
    .setIssuer(opts.iss ?? TEST_ISSUER)
    .setAudience(opts.aud ?? TEST_AUDIENCE)
    .setExpirationTime(now + (opts.expiresIn ?? 3600))
    .setJti(opts.jti ?? randomUUID());
  return jwt.sign(new TextEncoder().encode(opts.secret ?? TEST_SECRET));
}

/** An RSA key pair for RS256 tests: private key to sign, PEM and JWK of the public key to verify. */
export async function rsaKeys(kid = 'k1') {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return {
    kid,
    privateKey,
    publicPem: await exportSPKI(publicKey),
    jwk,
    async sign(claims: ClientClaims, opts: Omit<MintOptions, 'secret' | 'alg'> = {}): Promise<string> {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: opts.kid ?? kid })
        .setIssuedAt(now)
        .setIssuer(opts.iss ?? TEST_ISSUER)
        .setAudience(opts.aud ?? TEST_AUDIENCE)
        .setExpirationTime(now + (opts.expiresIn ?? 3600))
        .setJti(opts.jti ?? randomUUID())
        .sign(privateKey);
    },
  };
}

/** A token with `alg: none` (unsigned), to prove it is refused. */
export function unsignedToken(claims: ClientClaims): string {
  const now = Math.floor(Date.now() / 1000);
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ iss: TEST_ISSUER, aud: TEST_AUDIENCE, exp: now + 3600, ...claims })}.`;
}
