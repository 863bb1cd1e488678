import { SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { TEST_ISSUER, TEST_SECRET } from './tokens.js';

/** Audience the publisher expects on service tokens by default (HERALD_JWT_AUDIENCE). */
export const SERVICE_AUDIENCE = 'herald-publisher';

export interface ServiceClaims {
  sub?: string;
  /** Space-separated `scope` claim is written; pass `scopesArray` to write `scopes` instead. */
  scopes?: string[];
  scopesArray?: boolean;
  /** Allowed tenants: a list or '*'. Omitted when undefined. */
  tenants?: string[] | '*';
  [k: string]: unknown;
}

export interface ServiceMintOptions {
  secret?: string;
  iss?: string;
  aud?: string;
  expiresIn?: number;
  alg?: string;
}

/** A service token for the publisher (HS256 with the test secret unless told otherwise). */
export async function mintServiceToken(claims: ServiceClaims = {}, opts: ServiceMintOptions = {}): Promise<string> {
  const { sub = 'svc-test', scopes = ['notify:publish'], scopesArray = false, tenants, ...rest } = claims;
  const body: Record<string, unknown> = { ...rest };
  if (scopesArray) body.scopes = scopes;
  else body.scope = scopes.join(' ');
  if (tenants !== undefined) body.tenants = tenants;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(body)
    .setProtectedHeader({ alg: opts.alg ?? 'HS256' })
    .setSubject(sub)
    .setIssuedAt(now)
    .setIssuer(opts.iss ?? TEST_ISSUER)
    .setAudience(opts.aud ?? SERVICE_AUDIENCE)
    .setExpirationTime(now + (opts.expiresIn ?? 3600))
    .setJti(randomUUID())
    .sign(new TextEncoder().encode(opts.secret ?? TEST_SECRET));
}
