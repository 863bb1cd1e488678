#!/usr/bin/env node
// Wiring only: config, tracing, start, shutdown.
import { startTracing } from './tracing.js';
import { ConfigError, describeConfig, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { startPublisher } from './publisher.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (process.argv.includes('--check-config')) {
    process.stdout.write(`${JSON.stringify(describeConfig(config), null, 2)}\n`);
    return;
  }
  const tracing = await startTracing(process.env);
  const log = createLogger(config.logLevel);
  const publisher = await startPublisher(config, { log });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const watchdog = setTimeout(() => {
      log.error('shutdown deadline passed; exiting');
      process.exit(1);
    }, config.shutdownTimeoutS * 1000);
    watchdog.unref();
    publisher
      .close()
      .then(() => tracing?.shutdown())
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`herald-publisher failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
