#!/usr/bin/env node
import { ConfigError, describeConfig, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { MemoryBus } from './bus/memory.js';
import { NatsBus } from './bus/nats.js';
import type { Bus } from './bus/bus.js';
import { createEdge, startEdge } from './server.js';
import { makeShutdown } from './lifecycle.js';
import { startTracing } from '@herald/telemetry';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`herald-edge: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (process.argv.includes('--check-config')) {
    process.stdout.write(`${JSON.stringify(describeConfig(config), null, 2)}\n`);
    return;
  }
  const tracing = await startTracing(process.env, 'herald-edge');
  const log = createLogger(config.logLevel, 'edge');
  let bus: Bus;
  if (config.nats.url) {
    bus = await NatsBus.connect(config.nats, log.child({ component: 'bus' }));
  } else {
    log.warn('HERALD_NATS_URL is not set: using the in-memory bus (single process only)');
    bus = new MemoryBus();
  }
  const edge = createEdge(config, { bus, log, routes: config.demo ? (await import('./demo.js')).demoRoutes() : undefined });
  const shutdown = makeShutdown(edge, { exit: (code) => process.exit(code), ...(tracing ? { flush: () => tracing.shutdown() } : {}) });
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => void shutdown(sig));
  await startEdge(edge);
}

main().catch((err: unknown) => {
  process.stderr.write(`herald-edge: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
