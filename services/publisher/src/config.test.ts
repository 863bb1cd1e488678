import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig } from './config.js';

const SECRET = 's'.repeat(40);
const base = { HERALD_JWT_SECRET: SECRET, HERALD_JWT_ISSUER: 'https://issuer' };

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
    expect(c).toMatchObject({ port: 8081, internalPort: 9090, subjectPrefix: 'herald' });
    expect(c.stream).toEqual({ name: 'HERALD', maxAgeS: 86_400, maxMsgsPerSubject: 1000, maxBytes: 1024 ** 3, duplicateWindowS: 120, replicas: 1 });
    expect(c.jwt).toMatchObject({ audience: 'herald-publisher', algorithms: ['HS256'], tenantsClaim: 'tenants', clockToleranceS: 30 });
    expect(c.limits).toEqual({ bodyLimit: 65536, batchBodyLimit: 2 * 1024 * 1024, batchMax: 500, dataMaxDepth: 16, dataMaxKeys: 1000, dataMaxBytes: 32768 });
    expect(c.sanitize.allowedTags).toEqual([]);
    expect(c.tracing).toBe(false);
    expect(Object.isFrozen(c) && Object.isFrozen(c.stream) && Object.isFrozen(c.jwt.algorithms)).toBe(true);
  });

  it('rejects unknown HERALD_* keys but ignores HERALD_TOOLS', () => {
    expect(problems({ ...base, HERALD_PROT: '1' })).toEqual(['unknown setting HERALD_PROT']);
    expect(problems({ ...base, HERALD_TOOLS: '/x' })).toEqual([]);
  });

  it('refuses the HS256 secret in production and short secrets', () => {
    expect(problems({ ...base, NODE_ENV: 'production' }).join()).toMatch(/development only/);
    expect(problems({ ...base, HERALD_JWT_SECRET: 'short' }).join()).toMatch(/at least 32/);
  });

  it('requires exactly one key source and an issuer', () => {
    expect(problems({ HERALD_JWT_ISSUER: 'x' }).join()).toMatch(/is required/);
    expect(problems({ ...base, HERALD_JWT_JWKS_URL: 'https://x/jwks' }).join()).toMatch(/only one/);
    expect(problems({ HERALD_JWT_SECRET: SECRET }).join()).toMatch(/HERALD_JWT_ISSUER is required/);
  });

  it('keeps algorithms consistent with the key type (no confusion, no none)', () => {
    expect(problems({ ...base, HERALD_JWT_ALGORITHMS: 'RS256' }).join()).toMatch(/RS256 is not allowed/);
    expect(problems({ ...base, HERALD_JWT_ALGORITHMS: 'none' }).join()).toMatch(/none is not allowed/);
    expect(problems({ HERALD_JWT_ISSUER: 'x', HERALD_JWT_JWKS_URL: 'https://x/j', HERALD_JWT_ALGORITHMS: 'HS256' }).join()).toMatch(/HS256 is not allowed/);
    expect(problems({ HERALD_JWT_ISSUER: 'x', HERALD_JWT_JWKS_URL: 'http://x/j', NODE_ENV: 'production' }).join()).toMatch(/https in production/);
  });

  it('parses limits, overrides and the sanitiser allow-list', () => {
    const c = loadConfig({
      ...base,
      HERALD_TENANT_RATE_OVERRIDES: 'acme=500:1000, beta=0.5:2',
      HERALD_SANITIZE_ALLOWED_TAGS: 'b,i,a',
      HERALD_SANITIZE_ALLOWED_ATTRIBUTES: 'a=href|title',
      HERALD_BATCH_MAX: '10',
    });
    expect(c.rateLimit.overrides).toEqual({ acme: { rate: 500, burst: 1000 }, beta: { rate: 0.5, burst: 2 } });
    expect(c.sanitize).toEqual({ allowedTags: ['b', 'i', 'a'], allowedAttributes: { a: ['href', 'title'] } });
    expect(c.limits.batchMax).toBe(10);
    expect(problems({ ...base, HERALD_TENANT_RATE_OVERRIDES: 'a.b=1:1' }).join()).toMatch(/tenant=rate:burst/);
    expect(problems({ ...base, HERALD_SANITIZE_ALLOWED_TAGS: 'script' }).join()).toMatch(/never be allowed/);
    expect(problems({ ...base, HERALD_PORT: '70000' }).join()).toMatch(/HERALD_PORT/);
    expect(problems({ ...base, HERALD_SUBJECT_PREFIX: 'a.>' }).join()).toMatch(/PREFIX/);
    expect(problems({ ...base, HERALD_STREAM_DUPLICATE_WINDOW_S: '100', HERALD_STREAM_MAX_AGE_S: '50' }).join()).toMatch(/cannot exceed/);
  });

  it('turns tracing on with an OTLP endpoint', () => {
    expect(loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }).tracing).toBe(true);
  });

  it('masks secrets in describeConfig', () => {
    const text = JSON.stringify(describeConfig(loadConfig({ ...base, HERALD_NATS_USER: 'u', HERALD_NATS_PASSWORD: 'pw-secret' })));
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('pw-secret');
    expect(text).toContain('***');
  });
});
