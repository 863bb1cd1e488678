import { SignJWT } from 'jose';
import type { StandaloneConfig } from './config.js';

/** A dev client token and a dev service token, signed with the standalone's HS256 secret (dev only). */
export async function devTokens(config: StandaloneConfig, ttlS = 12 * 3600): Promise<{ user: string; service: string } | undefined> {
  const secret = config.edge.jwt.secret;
  if (!secret) return undefined;
  const key = new TextEncoder().encode(secret);
  const now = Math.floor(Date.now() / 1000);
  const sign = (claims: Record<string, unknown>, sub: string, aud: string) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuer(config.edge.jwt.issuer).setAudience(aud).setIssuedAt(now).setExpirationTime(now + ttlS).sign(key);
  const j = config.edge.jwt;
  return {
    user: await sign({ [j.tenantClaim]: 'acme', [j.rolesClaim]: ['admin'], [j.roomsClaim]: ['ops'] }, 'alice', j.audience),
    service: await sign({ scope: 'notify:publish notify:global notify:revoke', [config.publisher.jwt.tenantsClaim]: ['acme', 'globex'] }, 'herald-dev', config.publisher.jwt.audience),
  };
}
