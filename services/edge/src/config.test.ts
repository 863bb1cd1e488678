import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig } from './config.js';

const base = {
  HERALD_JWT_SECRET: 'a-development-secret-of-at-least-32-chars',
  HERALD_JWT_ISSUER: 'iss',
  HERALD_JWT_AUDIENCE: 'aud',
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  it('has safe defaults and is frozen', () => {
    const c = loadConfig(base);
    expect(c.port).toBe(8080);
    expect(c.internalPort).toBe(9090);
    expect(c.authTimeoutMs).toBe(10_000);
    expect(c.tenantRoomRoles).toEqual(['admin']);
    expect(c.globalRoomRoles).toEqual(['super_admin']);
    expect(c.allowedOrigins).toEqual([]);
    expect(c.jwt.algorithms).toEqual(['HS256']);
    expect(c.jwt.clockToleranceS).toBe(30);
    expect(c.shutdownTimeoutS).toBe(35);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.jwt)).toBe(true);
  });

  it('rejects unknown HERALD_ keys', () => {
    expect(problems({ ...base, HERALD_AUTH_TIMOUT_MS: '5' })).toEqual(['HERALD_AUTH_TIMOUT_MS is not a known setting (typo?)']);
  });

  it('refuses HS256 in production and demo mode in production', () => {
    const p = problems({ ...base, NODE_ENV: 'production', HERALD_DEMO: 'true' });
    expect(p.some((x) => x.includes('refused when NODE_ENV=production'))).toBe(true);
    expect(p.some((x) => x.includes('HERALD_DEMO'))).toBe(true);
  });

  it('refuses wildcard origins, alg none and mixed algorithm families', () => {
    expect(problems({ ...base, HERALD_ALLOWED_ORIGINS: '*' })[0]).toMatch(/wildcards/);
    expect(problems({ ...base, HERALD_JWT_ALGORITHMS: 'none' })[0]).toMatch(/not allowed/);
    expect(problems({ ...base, HERALD_JWT_ALGORITHMS: 'HS256,RS256' })[0]).toMatch(/RS256 cannot be used/);
    const pem = problems({ HERALD_JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----', HERALD_JWT_ISSUER: 'i', HERALD_JWT_AUDIENCE: 'a', HERALD_JWT_ALGORITHMS: 'HS256' });
    expect(pem[0]).toMatch(/algorithm confusion/);
  });

  it('requires exactly one key source, an issuer and an audience', () => {
    const p = problems({});
    expect(p).toContain('one of HERALD_JWT_JWKS_URL, HERALD_JWT_PUBLIC_KEY(_FILE) or HERALD_JWT_SECRET is required');
    expect(p).toContain('HERALD_JWT_ISSUER is required');
    expect(p).toContain('HERALD_JWT_AUDIENCE is required');
    expect(problems({ ...base, HERALD_JWT_JWKS_URL: 'https://idp/jwks' })[0]).toMatch(/exactly one/);
  });

  it('validates numbers and booleans with a clear message', () => {
    expect(problems({ ...base, HERALD_PORT: 'eighty' })).toEqual(['HERALD_PORT must be an integer in [0, 65535], got "eighty"']);
    expect(problems({ ...base, HERALD_REQUIRE_ORIGIN: 'maybe' })).toEqual(['HERALD_REQUIRE_ORIGIN must be true or false, got "maybe"']);
    expect(problems({ ...base, HERALD_SUBJECT_PREFIX: 'a.>' })[0]).toMatch(/SUBJECT_PREFIX/);
    expect(problems({ ...base, HERALD_DRAIN_DELAY_S: '10', HERALD_DRAIN_WINDOW_S: '20', HERALD_SHUTDOWN_TIMEOUT_S: '25' })[0]).toMatch(/SHUTDOWN_TIMEOUT_S must exceed/);
  });

  it('masks secrets when describing the config', () => {
    const d = describeConfig(loadConfig({ ...base, HERALD_NATS_URL: 'nats://x:4222', HERALD_NATS_PASSWORD: 'hunter2', HERALD_NATS_USER: 'edge' }));
    const text = JSON.stringify(d);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain(base.HERALD_JWT_SECRET);
    expect(text).toContain('***');
  });
});
