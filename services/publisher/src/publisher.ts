import type { FastifyInstance } from 'fastify';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildApp } from './app.js';
import type { RevocationSink } from './routes/revocations.js';
import { createVerifier, type ServiceTokenVerifier } from './auth.js';
import type { PublishBus } from './bus/bus.js';
import { NatsBus } from './bus/nats.js';
import type { PublisherConfig } from './config.js';
import { createInternalServer } from './internal.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type PublisherMetrics } from './metrics.js';
import { TenantRateLimiter } from './ratelimit.js';
import { createSanitizer } from './sanitize.js';

export interface PublisherDeps {
  /** Parent logger (an embedding process passes its own). */
  readonly log?: Logger;
  /** Service-token verifier; default from config.jwt. */
  readonly verify?: ServiceTokenVerifier;
  /** Storage; default a NatsBus (JetStream) from config.nats. */
  readonly bus?: (config: PublisherConfig, log: Logger, metrics: PublisherMetrics) => PublishBus;
  /** Where revocations go; default KV + broadcast on NATS (standalone mode broadcasts on its memory bus). */
  readonly revocations?: RevocationSink;
}

export interface Ports {
  readonly public: number;
  readonly internal: number;
}

export interface Publisher {
  readonly app: FastifyInstance;
  readonly bus: PublishBus;
  readonly metrics: PublisherMetrics;
  readonly log: Logger;
  /** Listening ports (after start). */
  readonly ports: Ports;
  /** Resolves once NATS is connected and the stream ensured. */
  readonly ready: Promise<void>;
  isReady(): boolean;
  /** Graceful, idempotent: /readyz 503, wait drain delay, stop listening (in-flight requests finish), drain NATS. */
  close(opts?: { drainDelayS?: number }): Promise<void>;
}

/** Build every part without listening or connecting. */
export async function buildPublisher(config: PublisherConfig, deps: PublisherDeps = {}) {
  const log = (deps.log ?? createLogger(config.logLevel)).child({ component: 'publisher' });
  const metrics = createMetrics();
  const bus = deps.bus ? deps.bus(config, log.child({ component: 'bus' }), metrics) : new NatsBus(config, log.child({ component: 'nats' }), metrics);
  const limiter = new TenantRateLimiter(config.rateLimit.default, config.rateLimit.overrides);
  const sanitize = createSanitizer(config.sanitize, config.limits);
  const verify = deps.verify ?? createVerifier(config.jwt);
  const appDeps = { config, bus, sanitize, limiter, metrics, log, verify, ...(deps.revocations ? { revocations: deps.revocations } : {}) };
  const app = await buildApp(appDeps);
  let draining = false;
  const isReady = () => bus.ready && !draining;
  const internal: Server = createInternalServer({ registry: metrics.registry, ready: isReady });
  metrics.ready.set(0);

  let ports: Ports = { public: 0, internal: 0 };
  let closing: Promise<void> | undefined;

  const start = async (): Promise<Publisher> => {
    const ready = bus.start();
    await app.listen({ host: config.host, port: config.port });
    await new Promise<void>((resolve, reject) => {
      internal.once('error', reject);
      internal.listen(config.internalPort, config.host, () => resolve());
    });
    ports = { public: (app.server.address() as AddressInfo).port, internal: (internal.address() as AddressInfo).port };
    log.info({ ports }, 'publisher listening');
    return publisher(ready);
  };

  const close = (opts: { drainDelayS?: number } = {}): Promise<void> => {
    closing ??= (async () => {
      draining = true;
      metrics.ready.set(0);
      const delay = opts.drainDelayS ?? config.drainDelayS;
      if (delay > 0) {
        log.info({ delayS: delay }, 'draining: readyz is 503, waiting for endpoints to update');
        await new Promise((r) => setTimeout(r, delay * 1000));
      }
      await app.close();
      await bus.close();
      await new Promise<void>((r) => internal.close(() => r()));
      internal.closeAllConnections();
      log.info('publisher stopped');
    })();
    return closing;
  };

  const publisher = (ready: Promise<void>): Publisher => ({
    app,
    bus,
    metrics,
    log,
    get ports() {
      return ports;
    },
    ready,
    isReady,
    close,
  });

  return { app, bus, metrics, log, start, close, isReady };
}

/** Build, connect (in the background) and listen on config.port / config.internalPort (0 = any free port). */
export async function startPublisher(config: PublisherConfig, deps: PublisherDeps = {}): Promise<Publisher> {
  const built = await buildPublisher(config, deps);
  return built.start();
}
