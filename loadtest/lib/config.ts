// Shared settings for every script, read once from __ENV in the init context.
// Tokens are minted outside k6 (it has no RS256 signer): see README.md, "Tokens".
import { SharedArray } from 'k6/data';
import encoding from 'k6/encoding';

function str(name: string, fallback: string): string {
  const v = __ENV[name];
  return v === undefined || v === '' ? fallback : v;
}

/** A positive number from __ENV, or the fallback; anything else stops the run before it starts. */
export function num(name: string, fallback: number): number {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return v;
}

const trimSlash = (u: string): string => u.replace(/\/+$/, '');

/** The edge through the ingress (kind: http://localhost; an /etc/hosts name such as http://herald.local works too). */
export const BASE_URL = trimSlash(str('BASE_URL', 'http://localhost'));
/** WebSocket endpoint; derived from BASE_URL unless set. */
export const WS_URL = str('WS_URL', `${BASE_URL.replace(/^http/, 'ws')}/ws`);
/** The publisher API; internal by default, so usually a `kubectl port-forward`. */
export const PUBLISHER_URL = trimSlash(str('PUBLISHER_URL', 'http://127.0.0.1:18081'));
/** Service token with scope notify:publish for the clients' tenant. */
export const SERVICE_TOKEN = str('SERVICE_TOKEN', '');
/** Claim names, as configured on the edge (HERALD_JWT_TENANT_CLAIM, HERALD_JWT_ROLES_CLAIM). */
export const TENANT_CLAIM = str('TENANT_CLAIM', 'tid');
export const ROLES_CLAIM = str('ROLES_CLAIM', 'roles');
/** Where handleSummary writes <script>.json, relative to the directory k6 runs in. */
export const RESULTS_DIR = trimSlash(str('RESULTS_DIR', 'loadtest/results'));

export interface ClientIdentity {
  token: string;
  sub: string;
  tenant: string;
  roles: string[];
}

function claimsOf(token: string): Record<string, unknown> {
  const payload = token.split('.')[1];
  if (payload === undefined) throw new Error('a client token is not a JWT');
  const claims: unknown = JSON.parse(encoding.b64decode(payload, 'rawurl', 's'));
  if (typeof claims !== 'object' || claims === null) throw new Error('a client token has no claims object');
  return claims as Record<string, unknown>;
}

/** Reads (does not verify) the claims the scripts need: which user and tenant a token is for. */
export function identify(token: string): ClientIdentity {
  const c = claimsOf(token);
  const sub = c.sub;
  const tenant = c[TENANT_CLAIM];
  const roles = c[ROLES_CLAIM];
  if (typeof sub !== 'string' || typeof tenant !== 'string') {
    throw new Error(`a client token lacks string "sub" and "${TENANT_CLAIM}" claims`);
  }
  return {
    token,
    sub,
    tenant,
    roles: Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [],
  };
}

/**
 * Client tokens: TOKENS_FILE (absolute path to a JSON array of JWT strings, read once and shared by
 * all VUs), else the single CLIENT_TOKEN. Must be called in the init context (open() is only there).
 */
export function loadClientTokens(): readonly string[] {
  return new SharedArray<string>('client-tokens', () => {
    const file = __ENV.TOKENS_FILE;
    if (file) {
      const list: unknown = JSON.parse(open(file));
      if (!Array.isArray(list) || list.length === 0 || !list.every((t) => typeof t === 'string')) {
        throw new Error(`TOKENS_FILE ${file} must hold a non-empty JSON array of token strings`);
      }
      return list as string[];
    }
    if (__ENV.CLIENT_TOKEN) return [__ENV.CLIENT_TOKEN];
    throw new Error('set TOKENS_FILE (JSON array of client tokens) or CLIENT_TOKEN');
  });
}

/** The token for this VU: one per VU while they last, so the per-user connection cap is not what is measured. */
export function tokenForVu(tokens: readonly string[], vu: number): string {
  const t = tokens[(vu - 1) % tokens.length];
  if (t === undefined) throw new Error('no client tokens');
  return t;
}

export function requireServiceToken(): string {
  if (!SERVICE_TOKEN) throw new Error('set SERVICE_TOKEN (a publisher token with scope notify:publish)');
  return SERVICE_TOKEN;
}
