#!/usr/bin/env node
// `herald standalone`: wiring only (config, start, banner, shutdown).
import { ConfigError as EdgeConfigError, describeConfig } from '@herald/edge';
import { ConfigError as PublisherConfigError, describeConfig as describePublisher } from '@herald/publisher';
import { loadStandaloneConfig, StandaloneConfigError, type StandaloneConfig } from './config.js';
import { startStandalone } from './standalone.js';
import { devTokens } from './tokens.js';

const USAGE = `usage: herald standalone [--check-config]

Runs the Herald edge and publisher in one process on an in-memory bus and history
ring: no NATS needed. Configuration is the same HERALD_* environment as the
services (docs/configuration.md); the publisher's own ports and token audience are
HERALD_PUBLISHER_PORT (8081), HERALD_PUBLISHER_INTERNAL_PORT (9091) and
HERALD_PUBLISHER_JWT_AUDIENCE. Without a JWT key setting a random dev HS256 secret
is generated and dev tokens are printed.`;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] !== 'standalone' || args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(args[0] === 'standalone' || args.includes('--help') ? 0 : 2);
  }
  let config: StandaloneConfig;
  try {
    config = loadStandaloneConfig(process.env);
  } catch (err) {
    if (err instanceof EdgeConfigError || err instanceof PublisherConfigError || err instanceof StandaloneConfigError) {
      process.stderr.write(`herald standalone: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (args.includes('--check-config')) {
    process.stdout.write(`${JSON.stringify({ edge: describeConfig(config.edge), publisher: describePublisher(config.publisher), history: config.history }, null, 2)}\n`);
    return;
  }
  const s = await startStandalone(config);
  let exiting = false;
  const stop = (signal: string) => {
    if (exiting) return;
    exiting = true;
    process.stdout.write(`\n${signal}: stopping…\n`);
    const watchdog = setTimeout(() => process.exit(1), config.edge.shutdownTimeoutS * 1000);
    watchdog.unref();
    s.stop(signal).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  const tokens = await devTokens(config);
  const lines = [
    '',
    'Herald standalone is running (edge + publisher in one process, in-memory bus and history).',
    '',
    config.edge.demo ? `  demo page:  ${s.edgeUrl}/demo` : '  demo page:  off (HERALD_DEMO=false)',
    `  edge:       ${s.edgeUrl.replace('http', 'ws')}/ws   ${s.edgeUrl}/sse`,
    `  publisher:  ${s.publisherUrl}/v1/notifications   (OpenAPI: ${s.publisherUrl}/openapi.json)`,
  ];
  if (tokens) {
    lines.push(
      '',
      'Dev tokens (random secret for this run only):',
      `  export HERALD_USER_TOKEN=${tokens.user}`,
      `  export HERALD_SERVICE_TOKEN=${tokens.service}`,
      '',
      'Watch over SSE:',
      `  curl -N -H "Authorization: Bearer $HERALD_USER_TOKEN" ${s.edgeUrl}/sse`,
      '',
      'Send one:',
      `  curl -sS -X POST ${s.publisherUrl}/v1/notifications -H "Authorization: Bearer $HERALD_SERVICE_TOKEN" \\`,
      `    -H 'Content-Type: application/json' -d '{"tenant":"acme","room":"user:alice","event":"hello.world","data":{"text":"hi"}}'`,
    );
  }
  lines.push('', 'Ctrl-C stops it.', '');
  process.stdout.write(lines.join('\n'));
}

main().catch((err: unknown) => {
  process.stderr.write(`herald standalone: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
