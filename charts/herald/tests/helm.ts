// Runs the pinned helm from tools/bin and parses what it renders. No cluster is involved:
// `helm template` renders offline, and every object is validated against the API schemas here.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

const run = promisify(execFile);

export const CHART_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = resolve(CHART_DIR, '../..');
export const HELM = join(process.env.HERALD_TOOLS ?? join(REPO_ROOT, 'tools'), 'bin', 'helm');

export function requireHelm(): string {
  if (!existsSync(HELM)) {
    throw new Error(`helm not found at ${HELM}: run \`make tools\` (builds the pinned helm into tools/bin)`);
  }
  return HELM;
}

/** The value sets the chart must render under (issue 7): name → values files. */
export const VALUE_SETS: Record<string, string[]> = {
  defaults: [join(CHART_DIR, 'ci/defaults-values.yaml')],
  kind: [join(REPO_ROOT, 'k8s/values/kind.yaml')],
  production: [join(CHART_DIR, 'ci/production-values.yaml')],
  'autoscaling-off': [join(CHART_DIR, 'ci/autoscaling-off-values.yaml')],
  'everything-off': [join(CHART_DIR, 'ci/everything-off-values.yaml')],
  'dev-nats': [join(CHART_DIR, 'ci/dev-nats-values.yaml')],
};

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function helm(args: string[]): Promise<HelmResult> {
  requireHelm();
  try {
    const { stdout, stderr } = await run(HELM, args, {
      cwd: CHART_DIR,
      maxBuffer: 64 * 1024 * 1024,
      // helm must not read the operator's kubeconfig or repositories: everything here is offline.
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        KUBECONFIG: '/dev/null',
        HELM_CACHE_HOME: join(REPO_ROOT, 'tools/helm/cache'),
        HELM_CONFIG_HOME: join(REPO_ROOT, 'tools/helm/config'),
        HELM_DATA_HOME: join(REPO_ROOT, 'tools/helm/data'),
      },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

export interface RenderOptions {
  files?: string[];
  set?: string[];
  release?: string;
  namespace?: string;
}

/** `helm template`, failing loudly with helm's own message. */
export async function render(opts: RenderOptions = {}): Promise<K8sObject[]> {
  const res = await template(opts);
  if (res.code !== 0) throw new Error(`helm template failed:\n${res.stderr}`);
  return parseObjects(res.stdout);
}

export function template(opts: RenderOptions = {}): Promise<HelmResult> {
  const args = ['template', opts.release ?? RELEASE, '.', '--namespace', opts.namespace ?? 'herald'];
  for (const f of opts.files ?? []) args.push('-f', f);
  for (const s of opts.set ?? []) args.push('--set', s);
  return helm(args);
}

export function parseObjects(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]?.message}`);
    const value: unknown = doc.toJS({ maxAliasCount: -1 });
    if (value === null || value === undefined) continue;
    out.push(value as K8sObject);
  }
  return out;
}

export const byKind = (objs: K8sObject[], kind: string): K8sObject[] => objs.filter((o) => o.kind === kind);

/** Release name of every render here; objects are named `<release>-herald-<suffix>`. */
export const RELEASE = 'hr';
export const FULLNAME = `${RELEASE}-herald`;

/** The one object of a kind named `<fullname><nameSuffix>` (suffix like `-edge`). */
export function one(objs: K8sObject[], kind: string, nameSuffix: string): K8sObject {
  const hits = objs.filter((o) => o.kind === kind && o.metadata.name === `${FULLNAME}${nameSuffix}`);
  if (hits.length !== 1) {
    throw new Error(`expected one ${kind} named *${nameSuffix}, found ${hits.map((o) => o.metadata.name).join(', ') || 'none'}`);
  }
  return hits[0] as K8sObject;
}

/** Rendered YAML is untyped; tests read fields loosely and assert the shape they read. */
export type Any = any;
export const get = (o: unknown, path: string): Any =>
  path.split('.').reduce<Any>((acc, k) => (acc === undefined || acc === null ? undefined : acc[k]), o);
