import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (k8s/local/ is two levels down). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_CONFIG = resolve(REPO_ROOT, 'k8s/local/cluster.yaml');

// k8s/ is not a workspace package; the YAML parser comes from the dashboards package,
// whose tests drive this cluster.
const requireFromDashboards = createRequire(resolve(REPO_ROOT, 'dashboards/package.json'));
const YAML = requireFromDashboards('yaml') as { parse(src: string): unknown; stringify(value: unknown): string };
export const parseYaml = (src: string): unknown => YAML.parse(src);
export const toYaml = (value: unknown): string => YAML.stringify(value);

export interface NatsUser {
  user: string;
  password: string;
  publish: string[];
  subscribe: string[];
}

export interface ServiceSpec {
  replicas: number;
  port: number;
  internalPort: number;
  env: Record<string, string>;
}

export interface ClusterConfig {
  namespace: string;
  /** Absolute. */
  stateDir: string;
  subjectPrefix: string;
  streamName: string;
  buckets: { revocations: string; tickets: string };
  nats: {
    replicas: number;
    clientPort: number;
    clusterPort: number;
    monitorPort: number;
    /** Undefined: no authentication (not recommended). */
    users: { edge: NatsUser; publisher: NatsUser } | undefined;
  };
  edge: ServiceSpec;
  publisher: ServiceSpec;
  haproxy: { edgePort: number; publisherPort: number; metricsPort: number; checkIntervalMs: number };
  prometheus: { port: number; scrapeInterval: string; evaluationInterval: string; /** Absolute paths. */ rules: string[] };
}

export class ClusterConfigError extends Error {
  constructor(problems: string[]) {
    super(`invalid cluster config:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ClusterConfigError';
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep merge, for test overrides: objects merge, everything else replaces. */
export function merge<T>(base: T, over: unknown): T {
  if (!isObj(base) || !isObj(over)) return (over === undefined ? base : over) as T;
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = merge((base as Obj)[k], v);
  return out as T;
}

/** Parse and validate a cluster file (plus optional overrides) into a typed config. */
export function loadClusterConfig(file = DEFAULT_CONFIG, overrides: unknown = undefined): ClusterConfig {
  const raw = merge(parseYaml(readFileSync(file, 'utf8')), overrides);
  const problems: string[] = [];
  const at = (path: string): unknown => path.split('.').reduce<unknown>((o, k) => (isObj(o) ? o[k] : undefined), raw);
  const str = (path: string): string => {
    const v = at(path);
    if (typeof v !== 'string' || v === '') problems.push(`${path} must be a non-empty string`);
    return String(v);
  };
  const int = (path: string, min: number, max: number): number => {
    const v = at(path);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) problems.push(`${path} must be an integer in [${min}, ${max}]`);
    return Number(v);
  };
  const strings = (path: string): string[] => {
    const v = at(path);
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
      problems.push(`${path} must be a list of strings`);
      return [];
    }
    return v as string[];
  };
  const env = (path: string): Record<string, string> => {
    const v = at(path) ?? {};
    if (!isObj(v)) {
      problems.push(`${path} must be a map`);
      return {};
    }
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(v)) {
      if (!/^HERALD_[A-Z0-9_]+$/.test(k)) problems.push(`${path}.${k}: only HERALD_* settings belong here`);
      if (x === null || x === undefined) continue; // an override can remove a setting
      out[k] = String(x);
    }
    return out;
  };
  const service = (name: 'edge' | 'publisher'): ServiceSpec => ({
    replicas: int(`${name}.replicas`, 1, 20),
    port: int(`${name}.port`, 1024, 65000),
    internalPort: int(`${name}.internalPort`, 1024, 65000),
    env: env(`${name}.env`),
  });
  const prefix = str('subjectPrefix');
  const stream = str('streamName');
  const revocations = str('buckets.revocations');
  const tickets = str('buckets.tickets');
  const user = (name: 'edge' | 'publisher'): NatsUser => {
    const fill = (s: string) =>
      s.replaceAll('{prefix}', prefix).replaceAll('{stream}', stream).replaceAll('{revocations}', revocations).replaceAll('{tickets}', tickets);
    return {
      user: str(`nats.users.${name}.user`),
      password: str(`nats.users.${name}.password`),
      publish: strings(`nats.users.${name}.publish`).map(fill),
      subscribe: strings(`nats.users.${name}.subscribe`).map(fill),
    };
  };
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(REPO_ROOT, p));
  const config: ClusterConfig = {
    namespace: str('namespace'),
    stateDir: abs(str('stateDir')),
    subjectPrefix: prefix,
    streamName: stream,
    buckets: { revocations, tickets },
    nats: {
      replicas: int('nats.replicas', 1, 5),
      clientPort: int('nats.clientPort', 1024, 65000),
      clusterPort: int('nats.clusterPort', 1024, 65000),
      monitorPort: int('nats.monitorPort', 1024, 65000),
      users: at('nats.users') === null || at('nats.users') === undefined ? undefined : { edge: user('edge'), publisher: user('publisher') },
    },
    edge: service('edge'),
    publisher: service('publisher'),
    haproxy: {
      edgePort: int('haproxy.edgePort', 1024, 65535),
      publisherPort: int('haproxy.publisherPort', 1024, 65535),
      metricsPort: int('haproxy.metricsPort', 1024, 65535),
      checkIntervalMs: int('haproxy.checkIntervalMs', 100, 60_000),
    },
    prometheus: {
      port: int('prometheus.port', 1024, 65535),
      scrapeInterval: str('prometheus.scrapeInterval'),
      evaluationInterval: str('prometheus.evaluationInterval'),
      rules: strings('prometheus.rules').map(abs),
    },
  };
  for (const d of ['prometheus.scrapeInterval', 'prometheus.evaluationInterval']) {
    if (!/^\d+(ms|s|m)$/.test(String(at(d)))) problems.push(`${d} must be a Prometheus duration such as 5s`);
  }
  const ports = allPorts(config);
  const dup = ports.filter((p, i) => ports.indexOf(p) !== i);
  if (dup.length) problems.push(`ports overlap: ${[...new Set(dup)].join(', ')}`);
  if (problems.length) throw new ClusterConfigError(problems);
  return config;
}

/** Every port the cluster listens on, to catch overlaps in the file. */
export function allPorts(c: ClusterConfig): number[] {
  const range = (base: number, n: number) => Array.from({ length: n }, (_, i) => base + i);
  return [
    ...range(c.nats.clientPort, c.nats.replicas),
    ...range(c.nats.clusterPort, c.nats.replicas),
    ...range(c.nats.monitorPort, c.nats.replicas),
    ...range(c.edge.port, c.edge.replicas),
    ...range(c.edge.internalPort, c.edge.replicas),
    ...range(c.publisher.port, c.publisher.replicas),
    ...range(c.publisher.internalPort, c.publisher.replicas),
    c.haproxy.edgePort,
    c.haproxy.publisherPort,
    c.haproxy.metricsPort,
    c.prometheus.port,
  ];
}
