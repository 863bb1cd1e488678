import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { loadClusterConfig, type ClusterConfig } from '../../../k8s/local/config.js';
import { ALERTS_FILE } from './dashboards.js';

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A base port such that base..base+n-1 are all free on loopback right now. */
export async function freeRange(n: number, taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const ports = Array.from({ length: n }, (_, i) => base + i);
    if (ports.some((p) => taken.has(p))) continue;
    if ((await Promise.all(ports.map(bindable))).every(Boolean)) {
      for (const p of ports) taken.add(p);
      return base;
    }
  }
  throw new Error('no free port range');
}

/**
 * alerts.yaml with every group evaluated each second and every `for` cut to `forS`, so an
 * alert can be seen firing against the live cluster within a test's time.
 */
export function fastRules(dir: string, forS: number): string {
  const doc = parse(readFileSync(ALERTS_FILE, 'utf8')) as { groups: Array<{ interval?: string; rules: Array<{ alert?: string; for?: string }> }> };
  for (const g of doc.groups) {
    g.interval = '1s';
    for (const r of g.rules) if (r.alert) r.for = `${forS}s`;
  }
  const file = join(dir, 'alerts.fast.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

/**
 * The reduced local cluster for tests: 1 NATS, 2 edges, 1 publisher, HAProxy and Prometheus
 * (1 s scrapes, fast rules) on free ports, state in a temporary directory. Same code path
 * as `make cluster-up` (k8s/local/cluster.yaml plus overrides).
 */
export async function testClusterConfig(extra: { edgeEnv?: Record<string, string>; publisherEnv?: Record<string, string> } = {}): Promise<ClusterConfig> {
  const stateDir = mkdtempSync(join(tmpdir(), 'herald-cluster-'));
  const taken = new Set<number>();
  return loadClusterConfig(undefined, {
    namespace: 'herald-test',
    stateDir,
    nats: { replicas: 1, clientPort: await freeRange(1, taken), clusterPort: await freeRange(1, taken), monitorPort: await freeRange(1, taken) },
    edge: {
      replicas: 2,
      port: await freeRange(2, taken),
      internalPort: await freeRange(2, taken),
      env: { HERALD_DRAIN_DELAY_S: '0', HERALD_DRAIN_WINDOW_S: '0', HERALD_LOG_LEVEL: 'warn', ...extra.edgeEnv },
    },
    publisher: {
      replicas: 1,
      port: await freeRange(1, taken),
      internalPort: await freeRange(1, taken),
      env: { HERALD_STREAM_REPLICAS: '1', HERALD_DRAIN_DELAY_S: '0', HERALD_LOG_LEVEL: 'warn', ...extra.publisherEnv },
    },
    haproxy: {
      edgePort: await freeRange(1, taken),
      publisherPort: await freeRange(1, taken),
      metricsPort: await freeRange(1, taken),
      checkIntervalMs: 500,
    },
    prometheus: { port: await freeRange(1, taken), scrapeInterval: '1s', evaluationInterval: '1s', rules: [fastRules(stateDir, 1)] },
  });
}
