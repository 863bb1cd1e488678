#!/usr/bin/env node
// Mint the two tokens the chart's `helm test` needs, RS256-signed with a private key whose public
// half the edge and publisher trust (Secret herald-jwt): a client token for the edge and a service
// token with scope notify:publish for the same tenant. Node built-ins only.
//   node k8s/scripts/mint-tokens.mjs --key private.pem --issuer https://kind.herald.local/ \
//     [--tenant kind] [--sub smoke-user] [--client-audience herald] [--service-audience herald-publisher] [--ttl 86400]
//     [--service-scope 'notify:publish']   (space-separated scopes)
// Prints {"clientToken": "...", "serviceToken": "..."}.
import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({
  options: {
    key: { type: 'string' },
    issuer: { type: 'string' },
    tenant: { type: 'string', default: 'kind' },
    sub: { type: 'string', default: 'smoke-user' },
    'client-audience': { type: 'string', default: 'herald' },
    'service-audience': { type: 'string', default: 'herald-publisher' },
    ttl: { type: 'string', default: '86400' },
    'service-scope': { type: 'string', default: 'notify:publish' },
  },
});
if (!a.key || !a.issuer) {
  console.error('usage: mint-tokens.mjs --key <private.pem> --issuer <iss> [--tenant t] [--sub s]');
  process.exit(2);
}
const key = createPrivateKey(readFileSync(a.key));
const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');

function jwt(claims) {
  const now = Math.floor(Date.now() / 1000);
  const body = { iss: a.issuer, iat: now, nbf: now - 5, exp: now + Number(a.ttl), jti: randomUUID(), ...claims };
  const head = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(body)}`;
  return `${head}.${sign('sha256', Buffer.from(head), key).toString('base64url')}`;
}

process.stdout.write(
  `${JSON.stringify({
    clientToken: jwt({ sub: a.sub, aud: a['client-audience'], tid: a.tenant, roles: ['member'] }),
    serviceToken: jwt({ sub: 'helm-test', aud: a['service-audience'], scope: a['service-scope'], tenants: [a.tenant] }),
  })}\n`,
);
