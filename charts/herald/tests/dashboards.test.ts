// dashboards/ is the source of truth; the chart carries copies (Helm's .Files cannot read outside
// the chart). `make sync-dashboards` refreshes them; these tests fail when they drift.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Any, CHART_DIR, FULLNAME, type K8sObject, REPO_ROOT, VALUE_SETS, byKind, get, render } from './helm.js';

const SOURCE = join(REPO_ROOT, 'dashboards');
const COPY = join(CHART_DIR, 'dashboards');

/** Dashboards are the JSON files with panels (dashboards/ also holds package.json and tsconfig.json). */
function sourceFiles(): string[] {
  if (!existsSync(SOURCE)) return [];
  return readdirSync(SOURCE)
    .filter((f) => (f.endsWith('.json') && 'panels' in JSON.parse(readFileSync(join(SOURCE, f), 'utf8'))) || f === 'alerts.yaml')
    .sort();
}

let objs: K8sObject[] = [];
beforeAll(async () => {
  objs = await render({ files: VALUE_SETS.defaults as string[] });
});

describe('dashboard and alert copies', () => {
  it('the chart holds exactly the dashboards/ files, byte for byte (run `make sync-dashboards`)', () => {
    const src = sourceFiles();
    expect(src.length, 'dashboards/ has dashboards and alerts.yaml').toBeGreaterThanOrEqual(2);
    const copies = readdirSync(COPY).filter((f) => f.endsWith('.json') || f.endsWith('.yaml')).sort();
    expect(copies, 'run `make sync-dashboards`').toEqual(src);
    for (const f of src) {
      expect(readFileSync(join(COPY, f), 'utf8'), `${f} differs from dashboards/${f}: run \`make sync-dashboards\``).toBe(
        readFileSync(join(SOURCE, f), 'utf8'),
      );
    }
  });

  it('one ConfigMap per dashboard, labelled for the Grafana sidecar, with the identical JSON', () => {
    const dashboards = sourceFiles().filter((f) => f.endsWith('.json'));
    const cms = byKind(objs, 'ConfigMap').filter((c) => c.metadata.labels?.grafana_dashboard === '1');
    expect(cms.length).toBe(dashboards.length);
    for (const f of dashboards) {
      const cm = cms.find((c) => f in (get(c, 'data') ?? {}));
      expect(cm, f).toBeDefined();
      expect(cm?.metadata.name.startsWith(`${FULLNAME}-dashboard-`)).toBe(true);
      expect(cm?.metadata.annotations?.grafana_folder).toBe('Herald');
      const rendered: string = get(cm, 'data')[f];
      expect(JSON.parse(rendered)).toEqual(JSON.parse(readFileSync(join(SOURCE, f), 'utf8')));
      expect(rendered).toBe(readFileSync(join(SOURCE, f), 'utf8').replace(/\n$/, ''));
    }
  });

  it('the PrometheusRule groups are dashboards/alerts.yaml groups', () => {
    const rules = byKind(objs, 'PrometheusRule');
    expect(rules.length).toBe(1);
    const source = parse(readFileSync(join(SOURCE, 'alerts.yaml'), 'utf8')) as Any;
    expect(source.groups.length).toBeGreaterThan(0);
    expect(get(rules[0], 'spec.groups')).toEqual(source.groups);
    // Alert templates such as {{ $value }} reach Prometheus untouched, not evaluated by Helm.
    const text = readFileSync(join(SOURCE, 'alerts.yaml'), 'utf8');
    if (text.includes('{{')) expect(JSON.stringify(get(rules[0], 'spec.groups'))).toContain('{{');
  });

  it('dashboards and rules are off when disabled', () => {
    const off = render({ files: VALUE_SETS['everything-off'] as string[] });
    return off.then((o) => {
      expect(byKind(o, 'PrometheusRule')).toEqual([]);
      expect(byKind(o, 'ConfigMap').filter((c) => c.metadata.labels?.grafana_dashboard)).toEqual([]);
    });
  });
});
