// Every value set lints strictly, renders, and each rendered object passes the API schema.
import { beforeAll, describe, expect, it } from 'vitest';
import { type K8sObject, VALUE_SETS, helm, render, requireHelm } from './helm.js';
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
});
