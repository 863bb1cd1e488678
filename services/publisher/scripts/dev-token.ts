#!/usr/bin/env node
/**
 * Print a development service token for the publisher (HS256 with HERALD_JWT_SECRET).
 * Never for production: the publisher refuses HS256 there anyway.
 *
 *   HERALD_JWT_SECRET=… HERALD_JWT_ISSUER=… pnpm exec tsx services/publisher/scripts/dev-token.ts \
 *     [--tenants acme,beta | --tenants '*'] [--scopes notify:publish,notify:global] [--sub my-service] [--ttl 3600]
 */
import { SignJWT } from 'jose';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    tenants: { type: 'string', default: '*' },
    scopes: { type: 'string', default: 'notify:publish' },
    sub: { type: 'string', default: 'dev-service' },
    ttl: { type: 'string', default: '3600' },
  },
});
const secret = process.env.HERALD_JWT_SECRET;
const issuer = process.env.HERALD_JWT_ISSUER;
if (process.env.NODE_ENV === 'production' || !secret || !issuer) {
  process.stderr.write('dev-token: set HERALD_JWT_SECRET and HERALD_JWT_ISSUER (development only)\n');
  process.exit(2);
}
const tenants = values.tenants === '*' ? '*' : values.tenants.split(',').map((t) => t.trim()).filter(Boolean);
const token = await new SignJWT({ scope: values.scopes.split(',').map((s) => s.trim()).join(' '), tenants })
  .setProtectedHeader({ alg: 'HS256' })
  .setSubject(values.sub)
  .setIssuer(issuer)
  .setAudience(process.env.HERALD_JWT_AUDIENCE ?? 'herald-publisher')
  .setIssuedAt()
  .setExpirationTime(Math.floor(Date.now() / 1000) + Number(values.ttl))
  .sign(new TextEncoder().encode(secret));
process.stdout.write(`${token}\n`);
