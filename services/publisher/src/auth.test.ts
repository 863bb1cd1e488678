import { describe, expect, it } from 'vitest';
import { bearerToken, createVerifier, principalFrom, requireScope, requireTenant } from './auth.js';
import { ProblemError } from './errors.js';

const code = (fn: () => unknown) => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof ProblemError ? err.code : 'other';
  }
};

describe('principalFrom', () => {
  it('reads `scope` (space-separated) or `scopes` (array) and the tenants claim', () => {
    const p = principalFrom({ sub: 's', scope: 'notify:publish notify:global', tenants: ['a', 'b'] }, 'tenants');
    expect([...p.scopes]).toEqual(['notify:publish', 'notify:global']);
    expect(p.tenants).toEqual(new Set(['a', 'b']));
    expect(principalFrom({ sub: 's', scopes: ['notify:publish'], org: '*' }, 'org').tenants).toBe('*');
    expect(principalFrom({ sub: 's', scopes: ['notify:publish'], tenants: ['a', '*'] }, 'tenants').tenants).toBe('*');
  });

  it('refuses end-user tokens and malformed claims as invalid_token', () => {
    expect(code(() => principalFrom({ sub: 'u', tid: 'a', roles: ['admin'] }, 'tenants'))).toBe('invalid_token');
    expect(code(() => principalFrom({ sub: 'u', scope: 'openid profile' }, 'tenants'))).toBe('invalid_token');
    expect(code(() => principalFrom({ sub: 'u', scopes: [1] }, 'tenants'))).toBe('invalid_token');
    expect(code(() => principalFrom({ scope: 'notify:publish' }, 'tenants'))).toBe('invalid_token');
    expect(code(() => principalFrom({ sub: 's', scope: 'notify:publish', tenants: 'acme' }, 'tenants'))).toBe('invalid_token');
    expect(code(() => principalFrom({ sub: 's', scope: 'notify:publish', tenants: ['a.b'] }, 'tenants'))).toBe('invalid_token');
  });

  it('checks scopes and tenants', () => {
    const p = principalFrom({ sub: 's', scope: 'notify:revoke', tenants: ['a'] }, 'tenants');
    expect(code(() => requireScope(p, 'notify:publish'))).toBe('missing_scope');
    expect(code(() => requireTenant(p, 'b'))).toBe('tenant_not_allowed');
    expect(code(() => requireTenant(p, 'a'))).toBeUndefined();
  });
});

it('bearerToken accepts only a well-formed Bearer header', () => {
  expect(bearerToken('Bearer a.b.c')).toBe('a.b.c');
  expect(bearerToken('bearer a.b.c')).toBe('a.b.c');
  expect(bearerToken('Basic abc')).toBeUndefined();
  expect(bearerToken('Bearer a b')).toBeUndefined();
  expect(bearerToken(undefined)).toBeUndefined();
});

describe('createVerifier', () => {
  const jwt = {
    secret: 'k'.repeat(40),
    algorithms: ['HS256'],
    issuer: 'iss',
    audience: 'herald-publisher',
    tenantsClaim: 'tenants',
    clockToleranceS: 0,
  };
  const sign = async (expS: number) => {
    const { SignJWT } = await import('jose');
    return new SignJWT({ scope: 'notify:publish', tenants: ['a'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('svc')
      .setIssuer('iss')
      .setAudience('herald-publisher')
      .setExpirationTime(expS)
      .sign(new TextEncoder().encode(jwt.secret));
  };

  it('caches a verified token but still enforces its expiry', async () => {
    const { vi } = await import('vitest');
    const verify = createVerifier(jwt);
    const t0 = Date.now();
    const token = await sign(Math.floor(t0 / 1000) + 10);
    vi.useFakeTimers({ now: t0, toFake: ['Date'] });
    try {
      expect((await verify(token)).sub).toBe('svc');
      expect((await verify(token)).sub).toBe('svc');
      vi.setSystemTime(t0 + 11_000);
      await expect(verify(token)).rejects.toMatchObject({ code: 'invalid_token' });
    } finally {
      vi.useRealTimers();
    }
  });
});
