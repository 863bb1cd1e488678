// The k6 scripts take their client tokens from scripts/mint-client-tokens.mjs. These tokens are only
// useful if the edge, configured as on kind (RS256 public key, issuer, audience herald, default claim
// names), accepts them and puts each user in the tenant room fanout.ts publishes to.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, createAuthenticator, loadConfig } from '@herald/edge';

const SCRIPT = fileURLToPath(new URL('../scripts/mint-client-tokens.mjs', import.meta.url));
const ISSUER = 'https://kind.herald.local/';

let dir: string;
let keyFile: string;
let publicPem: string;

function mint(...args: string[]): string[] {
  const out = execFileSync(process.execPath, [SCRIPT, '--key', keyFile, '--issuer', ISSUER, ...args], { encoding: 'utf8' });
  return JSON.parse(out) as string[];
}

function edgeLike(env: Record<string, string> = {}) {
  const config = loadConfig({
    HERALD_JWT_PUBLIC_KEY: publicPem,
    HERALD_JWT_ALGORITHMS: 'RS256',
    HERALD_JWT_ISSUER: ISSUER,
    HERALD_JWT_AUDIENCE: 'herald',
    ...env,
  });
  return { config, auth: createAuthenticator(config.jwt) };
}

function pems(k: { privateKey: KeyObject; publicKey: KeyObject }) {
  return {
    priv: k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    pub: k.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'herald-loadtest-'));
  const { priv, pub } = pems(generateKeyPairSync('rsa', { modulusLength: 2048 }));
  keyFile = join(dir, 'private.pem');
  writeFileSync(keyFile, priv, { mode: 0o600 });
  publicPem = pub;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mint-client-tokens.mjs', () => {
  it('mints distinct tenant admins the edge accepts and puts in the tenant room', async () => {
    const tokens = mint('--tenant', 'kind', '--count', '25');
    expect(tokens).toHaveLength(25);
    const { config, auth } = edgeLike();
    const ids = await Promise.all(tokens.map((t) => auth.verify(t)));
    expect(new Set(ids.map((i) => i.sub)).size).toBe(25);
    for (const id of ids) {
      expect(id.tenant).toBe('kind');
      expect(id.roles.some((r) => config.tenantRoomRoles.includes(r))).toBe(true);
    }
  });

  it('--roles member gives users outside the tenant room (smoke/connections still work with them)', async () => {
    const [token] = mint('--count', '1', '--roles', 'member', '--tenant', 'acme', '--sub-prefix', 'u');
    const { config, auth } = edgeLike();
    const id = await auth.verify(token!);
    expect(id).toMatchObject({ sub: 'u1', tenant: 'acme', roles: ['member'] });
    expect(id.roles.some((r) => config.tenantRoomRoles.includes(r))).toBe(false);
  });

  it('the edge refuses them under another key or audience, so the test above is not vacuous', async () => {
    const [token] = mint('--count', '1');
    const other = pems(generateKeyPairSync('rsa', { modulusLength: 2048 }));
    const wrongKey = createAuthenticator(loadConfig({
      HERALD_JWT_PUBLIC_KEY: other.pub, HERALD_JWT_ALGORITHMS: 'RS256', HERALD_JWT_ISSUER: ISSUER, HERALD_JWT_AUDIENCE: 'herald',
    }).jwt);
    await expect(wrongKey.verify(token!)).rejects.toBeInstanceOf(AuthError);
    await expect(edgeLike({ HERALD_JWT_AUDIENCE: 'herald-publisher' }).auth.verify(token!)).rejects.toBeInstanceOf(AuthError);
  });

  it('refuses to run without a key and issuer', () => {
    expect(() => execFileSync(process.execPath, [SCRIPT, '--count', '1'], { stdio: 'pipe' })).toThrow();
  });
});
