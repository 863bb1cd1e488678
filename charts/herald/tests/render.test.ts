// Every value set lints strictly, renders, and each rendered object passes the API schema.
import { beforeAll, describe, expect, it } from 'vitest';
import { type Any, type K8sObject, VALUE_SETS, helm, render, requireHelm } from './helm.js';
import { unknownFields } from './strict.js';
import { validateAll } from './validate.js';

beforeAll(() => {
  requireHelm();
});

describe.each(Object.entries(VALUE_SETS))('value set %s', (_name, files) => {
  it('passes helm lint --strict', async () => {
    const res = await helm(['lint', '--strict', '.', ...files.flatMap((f) => ['-f', f])]);
    expect(res.stderr + res.stdout).toContain('0 chart(s) failed');
    expect(res.code).toBe(0);
  });

  it('renders objects that all validate against the Kubernetes API schemas', async () => {
    const objs = await render({ files });
    expect(objs.length).toBeGreaterThan(5);
    expect(await validateAll(objs)).toEqual([]);
    // The OpenAPI schemas are open; the API types are not: no field the API would silently drop.
    expect(unknownFields(objs)).toEqual([]);
    // Names are unique per kind, and DNS-1035 short enough for Services.
    const ids = objs.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);
    for (const o of objs) {
      expect(o.metadata.name, o.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      expect(o.metadata.name.length).toBeLessThanOrEqual(63);
    }
  });
});

describe('the schema validator', () => {
  it('rejects a malformed object (so a pass above means something)', async () => {
    const bad: K8sObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x' },
      spec: { replicas: 'three', selector: {}, template: { spec: { containers: [{ image: 'x' }] } } },
    };
    const errors = await validateAll([bad]);
    expect(errors.join('\n')).toMatch(/replicas/);
    const badMonitor: K8sObject = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: 'x' },
      spec: { endpoints: [{ port: 9090 }] },
    };
    expect((await validateAll([badMonitor])).length).toBe(1);
  });

  it('catches misspelt fields that the open OpenAPI schemas let through', async () => {
    const objs = await render({ files: VALUE_SETS.kind as string[] });
    const d = structuredClone(objs.find((o) => o.kind === 'Deployment')) as Any;
    d.spec.template.spec.containers[0].readinesProbe = { httpGet: { path: '/readyz', port: 9090 } };
    d.spec.template.metadata.label = { a: 'b' };
    d.spec.template.spec.securityContext.runAsNonRot = true;
    expect(await validateAll([d])).toEqual([]);
    expect(unknownFields([d]).map((p) => p.replace(/^Deployment\/[^.]+\./, '')).sort()).toEqual([
      'spec.template.metadata.label',
      'spec.template.spec.containers[0].readinesProbe',
      'spec.template.spec.securityContext.runAsNonRot',
    ]);
    const sm = structuredClone(objs.find((o) => o.kind === 'ServiceMonitor')) as Any;
    sm.spec.endpoints[0].intervall = '15s';
    expect(unknownFields([sm])).toEqual([`ServiceMonitor/${sm.metadata.name}.spec.endpoints[0].intervall`]);
  });
});

describe('the packaged chart', () => {
  it('renders exactly what the chart directory renders (.helmignore keeps what templates need)', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const out = mkdtempSync(join(tmpdir(), 'herald-pkg-'));
    try {
      const pkg = await helm(['package', '.', '-d', out]);
      expect(pkg.code, pkg.stderr).toBe(0);
      const files = VALUE_SETS.kind as string[];
      const fromDir = await helm(['template', 'hr', '.', '-n', 'herald', ...files.flatMap((f) => ['-f', f])]);
      const fromPkg = await helm(['template', 'hr', join(out, 'herald-0.1.0.tgz'), '-n', 'herald', ...files.flatMap((f) => ['-f', f])]);
      expect(fromPkg.code, fromPkg.stderr).toBe(0);
      expect(fromPkg.stdout).toBe(fromDir.stdout);
      expect(fromPkg.stdout).toContain('grafana_dashboard');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
