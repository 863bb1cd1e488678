import { describe, expect, it } from 'vitest';
import { ConfigError as EdgeConfigError } from '@herald/edge';
import { ConfigError as PublisherConfigError } from '@herald/publisher';
import { loadStandaloneConfig, splitEnv, StandaloneConfigError } from './config.js';

const fixed = () => 'dev-secret-for-tests-at-least-32-characters-long';

describe('standalone configuration', () => {
  it('works with nothing set: dev secret, demo on, loopback, 8080/8081', () => {
    const c = loadStandaloneConfig({}, fixed);
    expect(c.devSecret).toBe(true);
    expect(c.edge.jwt.secret).toBe(fixed());
    expect(c.publisher.jwt.secret).toBe(fixed());
    expect(c.edge.jwt.issuer).toBe(c.publisher.jwt.issuer);
    expect(c.edge.demo).toBe(true);
    expect([c.edge.host, c.edge.port, c.edge.internalPort]).toEqual(['127.0.0.1', 8080, 9090]);
    expect([c.publisher.host, c.publisher.port, c.publisher.internalPort]).toEqual(['127.0.0.1', 8081, 9091]);
    expect(c.edge.allowedOrigins).toEqual(['http://localhost:8080', 'http://127.0.0.1:8080']);
    expect(c.publisher.jwt.audience).toBe('herald-publisher');
    expect(c.edge.jwt.audience).toBe('herald');
  });

  it('routes each setting by its name: edge-only, publisher-only, shared, and HERALD_PUBLISHER_* copies', () => {
    const env = {
      HERALD_PORT: '7000',
      HERALD_PUBLISHER_PORT: '7001',
      HERALD_PUBLISHER_JWT_AUDIENCE: 'svc',
      HERALD_JWT_AUDIENCE: 'clients',
      HERALD_TENANT_RATE: '5',
      HERALD_MSG_RATE: '3',
      HERALD_SUBJECT_PREFIX: 'hx',
      PATH: '/bin',
    };
    const { edge, publisher } = splitEnv(env);
    expect(edge).toEqual({ HERALD_PORT: '7000', HERALD_JWT_AUDIENCE: 'clients', HERALD_MSG_RATE: '3', HERALD_SUBJECT_PREFIX: 'hx', PATH: '/bin' });
    expect(publisher).toEqual({ HERALD_PORT: '7001', HERALD_JWT_AUDIENCE: 'svc', HERALD_TENANT_RATE: '5', HERALD_SUBJECT_PREFIX: 'hx', PATH: '/bin' });
    const c = loadStandaloneConfig({ ...env, HERALD_JWT_SECRET: fixed(), HERALD_JWT_ISSUER: 'https://i' });
    expect(c.devSecret).toBe(false);
    expect([c.edge.port, c.publisher.port, c.publisher.jwt.audience, c.edge.jwt.audience]).toEqual([7000, 7001, 'svc', 'clients']);
    expect(c.publisher.rateLimit.default.rate).toBe(5);
    expect(c.edge.msgRate).toBe(3);
    expect([c.edge.subjectPrefix, c.publisher.subjectPrefix]).toEqual(['hx', 'hx']);
  });

  it('rejects a setting neither service knows, naming it', () => {
    expect(() => loadStandaloneConfig({ HERALD_ALLOWED_ORIGIN: 'http://x' }, fixed)).toThrow(PublisherConfigError);
    expect(() => loadStandaloneConfig({ HERALD_ALLOWED_ORIGIN: 'http://x' }, fixed)).toThrow(/HERALD_ALLOWED_ORIGIN/);
  });

  it('refuses NATS settings (standalone has no NATS) and the edge refuses demo mode in production', () => {
    expect(() => loadStandaloneConfig({ HERALD_NATS_URL: 'nats://127.0.0.1:4222' }, fixed)).toThrow(StandaloneConfigError);
    // In production no dev secret is generated and no demo is defaulted; a dev secret is refused.
    expect(() => loadStandaloneConfig({ NODE_ENV: 'production', HERALD_JWT_SECRET: fixed(), HERALD_JWT_ISSUER: 'https://i', HERALD_JWT_AUDIENCE: 'a' })).toThrow(EdgeConfigError);
    expect(() => loadStandaloneConfig({ NODE_ENV: 'production' })).toThrow(/JWT/);
  });
});
