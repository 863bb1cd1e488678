#!/usr/bin/env node
/**
 * The local cluster of real processes: `node --import tsx k8s/local/cluster.ts up|down|status|roll
 * [--config k8s/local/cluster.yaml]` (what `make cluster-up` and friends run). The functions are
 * exported for the dashboards proof test, which runs a reduced cluster of its own.
 */
import { existsSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_CONFIG, REPO_ROOT, loadClusterConfig, type ClusterConfig } from './config.js';
import { httpStatus, isAlive, readPid, startProcess, stopProcess, tail, waitUntil } from './procs.js';
import { processSpecs, type Kind, type ProcessSpec } from './render.js';

export type Say = (line: string) => void;
const START_ORDER: Kind[] = ['nats', 'publisher', 'edge', 'haproxy', 'prometheus'];
const READY_TIMEOUT_MS = 90_000;

export interface ProcessStatus {
  name: string;
  kind: Kind;
  pid: number | undefined;
  running: boolean;
  ready: boolean;
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Ports a spec listens on, to refuse a start that would collide with something else. */
function specPorts(spec: ProcessSpec): number[] {
  const ports = [new URL(spec.readyUrl).port];
  for (const [k, v] of Object.entries(spec.env)) if (k === 'HERALD_PORT' || k === 'HERALD_INTERNAL_PORT') ports.push(v);
  return ports.map(Number);
}

/** Milliseconds an edge or publisher may take to drain before it is killed. */
function stopTimeoutMs(spec: ProcessSpec): number {
  const n = (k: string, d: number) => Number(spec.env[k] ?? d);
  if (spec.kind === 'edge' || spec.kind === 'publisher') {
    const delay = n('HERALD_DRAIN_DELAY_S', 5);
    const window = spec.kind === 'edge' ? n('HERALD_DRAIN_WINDOW_S', 20) : 0;
    return (n('HERALD_SHUTDOWN_TIMEOUT_S', delay + window + 10) + 5) * 1000;
  }
  return 15_000;
}

async function waitReady(c: ClusterConfig, spec: ProcessSpec): Promise<void> {
  const rec = readPid(c.stateDir, spec.name);
  let died = false;
  const ok = await waitUntil(async () => {
    if (!isAlive(rec)) {
      died = true;
      return true;
    }
    return (await httpStatus(spec.readyUrl)) === 200;
  }, READY_TIMEOUT_MS);
  if (died) throw new Error(`${spec.name} exited during start; last log lines:\n${tail(c.stateDir, spec.name)}`);
  if (!ok) throw new Error(`${spec.name} not ready at ${spec.readyUrl} after ${READY_TIMEOUT_MS / 1000}s; last log lines:\n${tail(c.stateDir, spec.name)}`);
}

function checkTools(specs: ProcessSpec[]): void {
  for (const s of specs) {
    const found = s.command.includes('/') ? existsSync(s.command) : (process.env.PATH ?? '').split(':').some((d) => existsSync(`${d}/${s.command}`));
    if (!found) throw new Error(`${s.command} not found: run \`make tools\` first`);
  }
}

/** Start whatever of the cluster is not running yet, in dependency order, each group ready before the next. */
export async function up(c: ClusterConfig, say: Say = console.log): Promise<void> {
  const specs = processSpecs(c);
  checkTools(specs);
  const running = specs.filter((s) => isAlive(readPid(c.stateDir, s.name)));
  if (running.length === specs.length) {
    say(`the local cluster already runs (${specs.length} processes); \`make cluster-status\` shows them`);
    return;
  }
  for (const s of running) say(`already running: ${s.name} (pid ${readPid(c.stateDir, s.name)?.pid})`);
  for (const kind of START_ORDER) {
    const group = specs.filter((s) => s.kind === kind && !running.includes(s));
    for (const s of group) {
      for (const p of specPorts(s)) if (await portInUse(p)) throw new Error(`${s.name}: port ${p} is already in use by another program`);
    }
    for (const s of group) {
      const rec = startProcess(c.stateDir, s);
      say(`started ${s.name} (pid ${rec.pid})`);
    }
    await Promise.all(group.map((s) => waitReady(c, s)));
    if (kind === 'haproxy' && group.length) await waitInRotation(c, specs);
    if (group.length) say(`ready: ${group.map((s) => s.name).join(', ')}`);
  }
  say(endpoints(c));
}

export function endpoints(c: ClusterConfig): string {
  return [
    `edges (HAProxy):      ws://127.0.0.1:${c.haproxy.edgePort}/ws   http://127.0.0.1:${c.haproxy.edgePort}/sse`,
    `publishers (HAProxy): http://127.0.0.1:${c.haproxy.publisherPort}/v1/notifications`,
    `Prometheus:           http://127.0.0.1:${c.prometheus.port}  (alerts: /alerts)`,
    `logs and pids:        ${relative(REPO_ROOT, c.stateDir) || c.stateDir}/logs, ${relative(REPO_ROOT, c.stateDir) || c.stateDir}/pids`,
  ].join('\n');
}

/** Stop exactly the processes whose pid files up() wrote, in reverse order (edges drain). */
export async function down(c: ClusterConfig, say: Say = console.log, opts: { purge?: boolean } = {}): Promise<void> {
  const specs = processSpecs(c);
  let stopped = 0;
  for (const kind of [...START_ORDER].reverse()) {
    const group = specs.filter((s) => s.kind === kind);
    const results = await Promise.all(group.map(async (s) => [s.name, await stopProcess(c.stateDir, s.name, stopTimeoutMs(s))] as const));
    for (const [name, r] of results) {
      if (r !== 'not running') {
        stopped++;
        say(`${r}: ${name}`);
      }
    }
  }
  say(stopped ? `stopped ${stopped} processes` : 'nothing of the local cluster was running');
  if (opts.purge) {
    rmSync(c.stateDir, { recursive: true, force: true });
    say(`removed ${c.stateDir}`);
  }
}

export async function status(c: ClusterConfig): Promise<ProcessStatus[]> {
  return Promise.all(
    processSpecs(c).map(async (s) => {
      const rec = readPid(c.stateDir, s.name);
      const running = isAlive(rec);
      return { name: s.name, kind: s.kind, pid: running ? rec.pid : undefined, running, ready: running && (await httpStatus(s.readyUrl)) === 200 };
    }),
  );
}

async function printStatus(c: ClusterConfig, say: Say): Promise<boolean> {
  const st = await status(c);
  say('process        pid      running  ready');
  for (const s of st) say(`${s.name.padEnd(14)} ${String(s.pid ?? '-').padEnd(8)} ${(s.running ? 'yes' : 'no').padEnd(8)} ${s.ready ? 'yes' : 'no'}`);
  const prom = `http://127.0.0.1:${c.prometheus.port}`;
  try {
    const targets = (await (await fetch(`${prom}/api/v1/targets?state=active`)).json()) as { data: { activeTargets: Array<{ health: string; labels: Record<string, string> }> } };
    const t = targets.data.activeTargets;
    const down = t.filter((x) => x.health !== 'up').map((x) => x.labels.pod ?? '?');
    say(`Prometheus targets up: ${t.length - down.length}/${t.length}${down.length ? ` (not up: ${down.join(', ')})` : ''}`);
    const alerts = (await (await fetch(`${prom}/api/v1/alerts`)).json()) as { data: { alerts: Array<{ state: string; labels: Record<string, string> }> } };
    const active = alerts.data.alerts.map((a) => `${a.labels.alertname}${a.labels.pod ? `{pod=${a.labels.pod}}` : ''} ${a.state}`);
    say(`alerts: ${active.length ? active.join(', ') : 'none pending or firing'}`);
  } catch {
    say('Prometheus: not answering');
  }
  return st.every((s) => s.running && s.ready);
}

/** State of one HAProxy server as HAProxy's exporter reports it ("UP", "DOWN", ...). */
export async function haproxyServerState(c: ClusterConfig, backend: string, server: string): Promise<string | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${c.haproxy.metricsPort}/metrics`, { signal: AbortSignal.timeout(2_000) })).text();
    const re = new RegExp(`^haproxy_server_status\\{proxy="${backend}",server="${server}",state="([A-Z_]+)"\\} 1$`, 'm');
    return re.exec(text)?.[1];
  } catch {
    return undefined;
  }
}

/** Wait until HAProxy routes to every edge and publisher (its health checks have passed). */
async function waitInRotation(c: ClusterConfig, specs: ProcessSpec[]): Promise<void> {
  const servers = specs.flatMap((s) =>
    s.kind === 'edge' ? [['edge_ws', s.name], ['edge_http', s.name]] : s.kind === 'publisher' ? [['publisher', s.name]] : [],
  );
  const ok = await waitUntil(async () => (await Promise.all(servers.map(([b, n]) => haproxyServerState(c, b!, n!)))).every((st) => st === 'UP'), 30_000, 200);
  if (!ok) throw new Error(`HAProxy does not route to every server after 30s; see ${c.stateDir}/logs/haproxy.log`);
}

/**
 * Rolling restart of the edges, one at a time as a Deployment's rolling update with
 * maxUnavailable 1: SIGTERM (the edge drains: not ready, HAProxy takes it out, connections
 * closed with SHUTDOWN in paced batches), wait for it to exit, start it again, wait until it is
 * ready and HAProxy sends it traffic again, then the next one.
 */
export async function roll(c: ClusterConfig, say: Say = console.log): Promise<void> {
  const edges = processSpecs(c).filter((s) => s.kind === 'edge');
  for (const s of edges) {
    if (!isAlive(readPid(c.stateDir, s.name))) throw new Error(`${s.name} is not running: run \`make cluster-up\` first`);
  }
  for (const s of edges) {
    const t0 = Date.now();
    say(`${s.name}: SIGTERM, draining`);
    const r = await stopProcess(c.stateDir, s.name, stopTimeoutMs(s));
    say(`${s.name}: ${r === 'stopped' ? 'drained and exited' : 'killed after the drain deadline'} in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    const rec = startProcess(c.stateDir, s);
    await waitReady(c, s);
    const inRotation = await waitUntil(async () => (await haproxyServerState(c, 'edge_ws', s.name)) === 'UP', 30_000, 200);
    if (!inRotation) throw new Error(`${s.name} is ready but HAProxy does not send it traffic`);
    say(`${s.name}: restarted (pid ${rec.pid}), ready and back in HAProxy after ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  }
  say(`rolled ${edges.length} edges`);
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const i = rest.indexOf('--config');
  const file = i >= 0 ? rest[i + 1] : DEFAULT_CONFIG;
  const c = loadClusterConfig(file);
  switch (cmd) {
    case 'up':
      await up(c);
      return 0;
    case 'down':
      await down(c, console.log, { purge: rest.includes('--purge') });
      return 0;
    case 'status':
      return (await printStatus(c, console.log)) ? 0 : 1;
    case 'roll':
      await roll(c);
      return 0;
    default:
      console.error('usage: cluster.ts up|down [--purge]|status|roll [--config k8s/local/cluster.yaml]');
      return 2;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(1);
    },
  );
}
