// The environment the chart gives each container is accepted by the service's own loadConfig
// (which refuses unknown HERALD_* keys and bad values): chart and services cannot drift apart.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Any, type K8sObject, REPO_ROOT, VALUE_SETS, get, one, render } from './helm.js';

type LoadConfig = (env: Record<string, string | undefined>) => Any;
const loaders: Record<string, LoadConfig> = {};
const sets: Record<string, K8sObject[]> = {};
let dir = '';
let pemFile = '';

beforeAll(async () => {
  for (const svc of ['edge', 'publisher']) {
    const mod = (await import(pathToFileURL(join(REPO_ROOT, `services/${svc}/src/config.ts`)).href)) as { loadConfig: LoadConfig };
    loaders[svc] = mod.loadConfig;
  }
  for (const [name, files] of Object.entries(VALUE_SETS)) sets[name] = await render({ files });
  dir = mkdtempSync(join(tmpdir(), 'herald-chart-'));
  pemFile = join(dir, 'public.pem');
  writeFileSync(pemFile, generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The container's environment as Kubernetes would build it, Secrets replaced by placeholders. */
function containerEnv(objs: K8sObject[], component: string): Record<string, string> {
  const d = one(objs, 'Deployment', `-${component}`);
  const c = get(d, 'spec.template.spec.containers.0');
  const env: Record<string, string> = {};
  for (const from of (c.envFrom ?? []) as Any[]) {
    const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === from.configMapRef?.name);
    expect(cm, `ConfigMap ${from.configMapRef?.name}`).toBeDefined();
    Object.assign(env, get(cm, 'data'));
  }
  for (const e of (c.env ?? []) as Any[]) env[e.name] = e.value ?? `secret-${e.valueFrom?.secretKeyRef?.key ?? 'x'}`;
  // Files mounted from Secrets: point the key file at a real PEM; the others are only paths.
  if (env.HERALD_JWT_PUBLIC_KEY_FILE) env.HERALD_JWT_PUBLIC_KEY_FILE = pemFile;
  return env;
}

describe.each(Object.keys(VALUE_SETS))('%s', (name) => {
  it.each(['edge', 'publisher'])('%s accepts the rendered environment', (svc) => {
    const env = containerEnv(sets[name] as K8sObject[], svc);
    let cfg: Any;
    expect(() => {
      cfg = (loaders[svc] as LoadConfig)(env);
    }).not.toThrow();
    expect(Object.isFrozen(cfg)).toBe(true);
    expect(cfg.internalPort).toBe(9090);
    expect(cfg.production).toBe(true);
  });
});

it('the edge shutdown watchdog the chart sets fits inside the grace period', () => {
  const objs = sets.defaults as K8sObject[];
  const cfg = (loaders.edge as LoadConfig)(containerEnv(objs, 'edge'));
  const grace: number = get(one(objs, 'Deployment', '-edge'), 'spec.template.spec.terminationGracePeriodSeconds');
  const flat = JSON.stringify(cfg);
  expect(flat).toContain('"drainDelayS":5');
  const shutdown = Number(/"shutdownTimeoutS":(\d+)/.exec(flat)?.[1]);
  expect(shutdown).toBeGreaterThan(0);
  expect(grace).toBeGreaterThan(shutdown);
});
