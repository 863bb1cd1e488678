import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { controlSubject } from '@herald/protocol';
import { NatsServer, ServiceProcess, TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET, freePort } from '@herald/testkit';
import { revocationKey, type Revocation } from '../src/revocations.js';

/** An edge in its own process (so it can be SIGKILLed), sharing a prefix and stream with others. */
export interface EdgeProcess {
  p: ServiceProcess;
  url: string;
  wsUrl: string;
  internalUrl: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Settings shared by every edge of one test "cluster": prefix, stream, KV buckets. */
export function clusterEnv(nats: NatsServer, prefix: string): Record<string, string> {
  return {
    HERALD_NATS_URL: nats.url,
    HERALD_SUBJECT_PREFIX: prefix,
    HERALD_STREAM_NAME: `S_${prefix}`,
    HERALD_REVOCATIONS_BUCKET: `REV_${prefix}`,
    HERALD_TICKETS_BUCKET: `TIX_${prefix}`,
    HERALD_JWT_SECRET: TEST_SECRET,
    HERALD_JWT_ISSUER: TEST_ISSUER,
    HERALD_JWT_AUDIENCE: TEST_AUDIENCE,
    HERALD_HOST: '127.0.0.1',
    HERALD_DRAIN_DELAY_S: '0',
    HERALD_DRAIN_WINDOW_S: '0',
    HERALD_UNSUBSCRIBE_DELAY_MS: '0',
    HERALD_ALLOWED_ORIGINS: 'https://app.example.com',
  };
}

export async function startEdgeProcess(nats: NatsServer, prefix: string, env: Record<string, string> = {}): Promise<EdgeProcess> {
  const port = await freePort();
  const internal = await freePort();
  const p = new ServiceProcess('services/edge/src/main.ts', {
    ...clusterEnv(nats, prefix),
    HERALD_PORT: String(port),
    HERALD_INTERNAL_PORT: String(internal),
    ...env,
  });
  await p.waitForLog((l) => l.msg === 'edge listening', 30_000);
  return {
    p,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    internalUrl: `http://127.0.0.1:${internal}`,
    stop: (signal = 'SIGKILL') => p.stop(signal),
  };
}

/** Does what the publisher's POST /v1/revocations does: KV put, then the broadcast. */
export class Revoker {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly prefix: string,
  ) {}

  static async create(nats: NatsServer, prefix: string): Promise<Revoker> {
    return new Revoker(await connect({ servers: nats.url }), prefix);
  }

  async revoke(r: Omit<Revocation, 'at' | 'until'> & { at?: number; until?: number }): Promise<Revocation> {
    const now = Math.floor(Date.now() / 1000);
    const full = { ...r, at: r.at ?? now, until: r.until ?? now + 3600 } as Revocation;
    const kv = await new Kvm(this.nc).create(`REV_${this.prefix}`, { history: 1, ttl: 7 * 24 * 3600 * 1000 });
    await kv.put(revocationKey(full), JSON.stringify(full));
    this.nc.publish(controlSubject(this.prefix, 'revocations'), JSON.stringify(full));
    await this.nc.flush();
    return full;
  }

  async close(): Promise<void> {
    await this.nc.drain();
  }
}
