import { join } from 'node:path';
import { REPO_ROOT, toYaml, type ClusterConfig, type NatsUser } from './config.js';

/**
 * Pure renderers: cluster config in, generated files and process specs out. Nothing here
 * touches the disk or starts anything, so it is easy to read and to test.
 */

export type Kind = 'nats' | 'publisher' | 'edge' | 'haproxy' | 'prometheus';

export interface ProcessSpec {
  /** Unique name, also the `pod` label: nats-0, edge-2, publisher-1, haproxy, prometheus. */
  name: string;
  kind: Kind;
  command: string;
  args: string[];
  env: Record<string, string>;
  /** Files to write before start: absolute path → content. */
  files: Record<string, string>;
  /** An HTTP URL that answers 200 when the process is ready. */
  readyUrl: string;
}

const HOST = '127.0.0.1';
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const q = (s: string) => JSON.stringify(s);

function natsAuthorization(users: { edge: NatsUser; publisher: NatsUser }): string {
  const user = (u: NatsUser) =>
    `    { user: ${q(u.user)}, password: ${q(u.password)}, permissions: {\n` +
    `        publish: { allow: [${u.publish.map(q).join(', ')}] }\n` +
    `        subscribe: { allow: [${u.subscribe.map(q).join(', ')}] }\n` +
    `    } }`;
  return `authorization {\n  users: [\n${user(users.edge)},\n${user(users.publisher)}\n  ]\n}\n`;
}

export function natsConfig(c: ClusterConfig, i: number): string {
  const dir = join(c.stateDir, `nats-${i}`);
  const lines = [
    `# generated from k8s/local/cluster.yaml by k8s/local/render.ts`,
    `server_name: nats-${i}`,
    `listen: ${HOST}:${c.nats.clientPort + i}`,
    `http: ${HOST}:${c.nats.monitorPort + i}`,
    `jetstream { store_dir: ${q(join(dir, 'js'))}, max_memory_store: 256MB, max_file_store: 2GB }`,
  ];
  if (c.nats.replicas > 1) {
    const routes = range(c.nats.replicas)
      .filter((j) => j !== i)
      .map((j) => `nats-route://${HOST}:${c.nats.clusterPort + j}`);
    lines.push(`cluster {\n  name: ${q(c.namespace)}\n  listen: ${HOST}:${c.nats.clusterPort + i}\n  routes: [${routes.map(q).join(', ')}]\n}`);
  }
  if (c.nats.users) lines.push(natsAuthorization(c.nats.users));
  return `${lines.join('\n')}\n`;
}

export function natsUrls(c: ClusterConfig): string {
  return range(c.nats.replicas)
    .map((i) => `nats://${HOST}:${c.nats.clientPort + i}`)
    .join(',');
}

function natsEnv(c: ClusterConfig, who: 'edge' | 'publisher'): Record<string, string> {
  const env: Record<string, string> = { HERALD_NATS_URL: natsUrls(c) };
  const u = c.nats.users?.[who];
  if (u) {
    env.HERALD_NATS_USER = u.user;
    env.HERALD_NATS_PASSWORD = u.password;
  }
  return env;
}

function serviceSpec(c: ClusterConfig, kind: 'edge' | 'publisher', i: number): ProcessSpec {
  const s = c[kind];
  return {
    name: `${kind}-${i}`,
    kind,
    command: process.execPath,
    args: ['--import', 'tsx', join(REPO_ROOT, `services/${kind}/src/main.ts`)],
    env: {
      NODE_ENV: 'development',
      HERALD_HOST: HOST,
      HERALD_PORT: String(s.port + i),
      HERALD_INTERNAL_PORT: String(s.internalPort + i),
      HERALD_SUBJECT_PREFIX: c.subjectPrefix,
      HERALD_STREAM_NAME: c.streamName,
      ...natsEnv(c, kind),
      ...s.env,
    },
    files: {},
    readyUrl: `http://${HOST}:${s.internalPort + i}/readyz`,
  };
}

export function haproxyConfig(c: ClusterConfig): string {
  const inter = `${c.haproxy.checkIntervalMs}ms`;
  const edges = range(c.edge.replicas);
  const pubs = range(c.publisher.replicas);
  const edgeServer = (i: number, cookie: boolean) =>
    `  server edge-${i} ${HOST}:${c.edge.port + i} check port ${c.edge.internalPort + i}${cookie ? ` cookie edge-${i}` : ''}`;
  return `# generated from k8s/local/cluster.yaml by k8s/local/render.ts
# The same routing choices as the chart's ingress (charts/herald/templates/ingress.yaml):
# /ws upgrades are balanced (not sticky) so reconnects spread over pods after a drain;
# /sse and /v1/tickets (and the rest of the edge's HTTP) are cookie-sticky (cookie herald_edge).
# Health checks hit /readyz on the internal port, so a draining edge leaves the rotation
# within one check interval, as a pod leaves the Service endpoints.
global
  log stdout format raw local0 info
  # open files are capped at 20,000 per process here; two per proxied connection
  maxconn 9000

defaults
  mode http
  log global
  option httplog
  option dontlognull
  option forwardfor
  timeout connect 5s
  timeout client 65s
  timeout server 65s
  timeout http-request 10s
  timeout tunnel 3600s
  timeout check 2s
  # two failed checks take a server out (one slow answer on a busy machine must not), one brings it back
  default-server inter ${inter} fall 2 rise 1

frontend metrics
  bind ${HOST}:${c.haproxy.metricsPort}
  http-request use-service prometheus-exporter if { path /metrics }
  http-request return status 404

frontend edge
  bind ${HOST}:${c.haproxy.edgePort}
  use_backend edge_ws if { path /ws } || { path_beg /ws/ }
  default_backend edge_http

backend edge_ws
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
${edges.map((i) => edgeServer(i, false)).join('\n')}

backend edge_http
  balance roundrobin
  cookie herald_edge insert indirect nocache httponly maxlife 3600s
  option redispatch
  option httpchk GET /readyz
  http-check expect status 200
${edges.map((i) => edgeServer(i, true)).join('\n')}

frontend publisher
  bind ${HOST}:${c.haproxy.publisherPort}
  default_backend publisher

backend publisher
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
${pubs.map((i) => `  server publisher-${i} ${HOST}:${c.publisher.port + i} check port ${c.publisher.internalPort + i}`).join('\n')}
`;
}

export function prometheusConfig(c: ClusterConfig): string {
  const target = (port: number, pod: string) => ({ targets: [`${HOST}:${port}`], labels: { namespace: c.namespace, pod } });
  return (
    `# generated from k8s/local/cluster.yaml by k8s/local/render.ts\n` +
    toYaml({
      global: { scrape_interval: c.prometheus.scrapeInterval, evaluation_interval: c.prometheus.evaluationInterval },
      rule_files: c.prometheus.rules,
      scrape_configs: [
        // Job names as a ServiceMonitor would produce them (the Service name).
        { job_name: 'herald-edge', static_configs: range(c.edge.replicas).map((i) => target(c.edge.internalPort + i, `edge-${i}`)) },
        { job_name: 'herald-publisher', static_configs: range(c.publisher.replicas).map((i) => target(c.publisher.internalPort + i, `publisher-${i}`)) },
        { job_name: 'haproxy', static_configs: [target(c.haproxy.metricsPort, 'haproxy')] },
        { job_name: 'prometheus', static_configs: [target(c.prometheus.port, 'prometheus')] },
      ],
    })
  );
}

/** Every process of the cluster, in start order (NATS, publishers, edges, HAProxy, Prometheus). */
export function processSpecs(c: ClusterConfig): ProcessSpec[] {
  const nats = range(c.nats.replicas).map((i): ProcessSpec => {
    const conf = join(c.stateDir, `nats-${i}`, 'nats.conf');
    return {
      name: `nats-${i}`,
      kind: 'nats',
      command: join(process.env.HERALD_TOOLS ?? join(REPO_ROOT, 'tools'), 'bin', 'nats-server'),
      args: ['-c', conf],
      env: {},
      files: { [conf]: natsConfig(c, i) },
      readyUrl: `http://${HOST}:${c.nats.monitorPort + i}/healthz`,
    };
  });
  const haConf = join(c.stateDir, 'haproxy', 'haproxy.cfg');
  const promConf = join(c.stateDir, 'prometheus', 'prometheus.yml');
  return [
    ...nats,
    ...range(c.publisher.replicas).map((i) => serviceSpec(c, 'publisher', i)),
    ...range(c.edge.replicas).map((i) => serviceSpec(c, 'edge', i)),
    {
      name: 'haproxy',
      kind: 'haproxy',
      command: 'haproxy',
      args: ['-db', '-f', haConf],
      env: {},
      files: { [haConf]: haproxyConfig(c) },
      readyUrl: `http://${HOST}:${c.haproxy.metricsPort}/metrics`,
    },
    {
      name: 'prometheus',
      kind: 'prometheus',
      command: 'prometheus',
      args: [
        `--config.file=${promConf}`,
        `--storage.tsdb.path=${join(c.stateDir, 'prometheus', 'data')}`,
        `--storage.tsdb.retention.time=2d`,
        `--web.listen-address=${HOST}:${c.prometheus.port}`,
        '--web.enable-lifecycle',
        '--log.format=json',
      ],
      env: {},
      files: { [promConf]: prometheusConfig(c) },
      readyUrl: `http://${HOST}:${c.prometheus.port}/-/ready`,
    },
  ];
}
