import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { Authenticator, Identity } from './auth.js';
import { MemoryBus } from './bus/memory.js';
import { loadConfig } from './config.js';
import { Gateway, isIdentity, type Conn } from './gateway.js';
import { Hub } from './hub.js';
import { createMetrics } from './metrics.js';

describe('Gateway.authenticate', () => {
  it('runs at most HERALD_AUTH_CONCURRENCY verifications at once, and all of them eventually', async () => {
    const config = loadConfig({ HERALD_JWT_SECRET: 'a-development-secret-of-at-least-32-chars', HERALD_JWT_ISSUER: 'i', HERALD_JWT_AUDIENCE: 'a', HERALD_AUTH_CONCURRENCY: '3' });
    let inFlight = 0;
    let maxInFlight = 0;
    const auth: Authenticator = {
      async verify(token) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        if (token === 'bad') throw new Error('bad');
        return { sub: token, tenant: 't', roles: [], grantedRooms: new Set(), exp: 2e9, jti: undefined, iat: undefined } satisfies Identity;
      },
    };
    const metrics = createMetrics({ tenantMetrics: false, tenantMetricsMax: 1 });
    const log = pino({ level: 'silent' });
    const gw = new Gateway(config, auth, new Hub(new MemoryBus(), { publishWs: () => 0, publishSse: () => 0 }, metrics, log, 0), metrics, log);
    const conn = { id: 'c', transport: 'ws', ip: '127.0.0.1', identity: undefined } as unknown as Conn;
    const out = await Promise.all(Array.from({ length: 20 }, (_, i) => gw.authenticate(conn, i % 5 === 0 ? 'bad' : `u${i}`)));
    expect(maxInFlight).toBe(3);
    expect(out.filter(isIdentity)).toHaveLength(16);
    expect(out.filter((o) => o === 'AUTH_FAILED')).toHaveLength(4);
    gw.stop();
  });
});
