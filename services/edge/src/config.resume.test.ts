import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const base = {
  HERALD_JWT_SECRET: 'a-development-secret-of-at-least-32-chars',
  HERALD_JWT_ISSUER: 'iss',
  HERALD_JWT_AUDIENCE: 'aud',
};

describe('resume, reauth, revocation and ticket settings', () => {
  it('have the documented defaults', () => {
    const c = loadConfig(base);
    expect(c.resumeMaxMessages).toBe(10_000);
    expect(c.resumeConcurrency).toBe(16);
    expect(c.resumeQueueMax).toBe(20_000);
    expect(c.natsOutageMaxS).toBe(120);
    expect(c.reauthBeforeS).toBe(60);
    expect(c.revocationsBucket).toBe('HERALD_REVOCATIONS');
    expect(c.ticketsBucket).toBe('HERALD_TICKETS');
    expect(c.ticketTtlS).toBe(30);
    expect(c.authConcurrency).toBe(8);
  });

  it('refuses out-of-range values and bucket names NATS would not accept', () => {
    const bad = { ...base, HERALD_RESUME_MAX_MESSAGES: '0', HERALD_TICKET_TTL_S: '3600', HERALD_REVOCATIONS_BUCKET: 'a.b', HERALD_TICKETS_BUCKET: 'x y' };
    let problems: readonly string[] = [];
    try {
      loadConfig(bad);
    } catch (err) {
      if (err instanceof ConfigError) problems = err.problems;
    }
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/HERALD_RESUME_MAX_MESSAGES/);
    expect(problems.join('\n')).toMatch(/HERALD_REVOCATIONS_BUCKET/);
  });
});
