#!/usr/bin/env node
// Mint many client tokens for the k6 scripts (TOKENS_FILE): one distinct user per token, so the edge's
// per-user connection cap (20 per pod) is not what a load test measures. RS256-signed with the key
// kind-install.sh keeps in .cluster/kind/private.pem; claims shaped like k8s/scripts/mint-tokens.mjs.
// Node built-ins only.
//   node loadtest/scripts/mint-client-tokens.mjs --key .cluster/kind/private.pem \
//     --issuer https://kind.herald.local/ [--tenant kind] [--count 1000] [--roles admin] \
//     [--sub-prefix k6-] [--audience herald] [--ttl 86400] > tmp/k6-tokens.json
// Prints a JSON array of tokens.
import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({
  options: {
    key: { type: 'string' },
    issuer: { type: 'string' },
    tenant: { type: 'string', default: 'kind' },
    count: { type: 'string', default: '1000' },
    roles: { type: 'string', default: 'admin' },
    'sub-prefix': { type: 'string', default: 'k6-' },
    audience: { type: 'string', default: 'herald' },
    ttl: { type: 'string', default: '86400' },
  },
});
const count = Number(a.count);
if (!a.key || !a.issuer || !Number.isInteger(count) || count < 1) {
  console.error('usage: mint-client-tokens.mjs --key <private.pem> --issuer <iss> [--tenant t] [--count n] [--roles admin,member]');
  process.exit(2);
}
const key = createPrivateKey(readFileSync(a.key));
const roles = a.roles.split(',').map((r) => r.trim()).filter(Boolean);
const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
const head = b64({ alg: 'RS256', typ: 'JWT' });
const now = Math.floor(Date.now() / 1000);

const tokens = [];
for (let i = 1; i <= count; i++) {
  const body = b64({
    iss: a.issuer, aud: a.audience, sub: `${a['sub-prefix']}${i}`, tid: a.tenant, roles,
    iat: now, nbf: now - 5, exp: now + Number(a.ttl), jti: randomUUID(),
  });
  tokens.push(`${head}.${body}.${sign('sha256', Buffer.from(`${head}.${body}`), key).toString('base64url')}`);
}
process.stdout.write(`${JSON.stringify(tokens)}\n`);
