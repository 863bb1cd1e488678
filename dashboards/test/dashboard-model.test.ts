import { describe, expect, it } from 'vitest';
import { basename } from 'node:path';
import { allPanels, dashboardFiles, loadDashboard, metricNames, panelQueries, substitute, type Panel } from './lib/dashboards.js';
import { isKnownMetric } from './lib/metrics.js';
import { checkExpressions } from './lib/promtool.js';

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
// Values the offline checks substitute; the proof test substitutes what the live Prometheus has.
const OFFLINE_VARS = { namespace: 'herald', job: 'herald-edge', pod: '.*', __rate_interval: '1m' };

const files = dashboardFiles();

describe('dashboard files', () => {
  it('are the two the chart copies, with unique uids', () => {
    expect(files.map((f) => basename(f))).toEqual(['herald-overview.json', 'herald-publisher.json']);
    const uids = files.map((f) => loadDashboard(f).uid);
    expect(new Set(uids).size).toBe(uids.length);
  });
});

describe.each(files.map((f) => [basename(f), f]))('%s against the Grafana dashboard model', (_name, file) => {
  const d = loadDashboard(file);
  const panels = allPanels(d);
  const dataPanels = panels.filter((p) => p.type !== 'row');

  it('has the model header: schemaVersion 39+, uid, title, no fixed id', () => {
    expect(d.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(d.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(d.title).toMatch(/^Herald \//);
    expect(d.id).toBeNull();
    expect(d.time).toEqual({ from: 'now-1h', to: 'now' });
  });

  it('is templated on datasource, namespace, job and pod', () => {
    const vars = d.templating.list;
    expect(vars.map((v) => v.name)).toEqual(['datasource', 'namespace', 'job', 'pod']);
    const [ds, ns, job, pod] = vars;
    expect(ds).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const v of [ns, job, pod]) {
      expect(v?.type).toBe('query');
      expect(v?.datasource).toEqual(DATASOURCE);
      expect(v?.definition).toMatch(/^label_values\(herald_(edge|publisher)_ready/);
    }
    // Each variable narrows by the ones before it.
    expect(job?.definition).toContain('namespace=~"$namespace"');
    expect(pod?.definition).toContain('job=~"$job"');
    expect(pod).toMatchObject({ multi: true, includeAll: true, allValue: '.*' });
  });

  it('has unique panel ids and unique refIds per panel', () => {
    const ids = panels.map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id) && id > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dataPanels) {
      const refs = (p.targets ?? []).map((t) => t.refId);
      expect(new Set(refs).size, p.title).toBe(refs.length);
    }
  });

  it('lays panels out on the 24-column grid without overlaps', () => {
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos;
      for (const n of [x, y, w, h]) expect(Number.isInteger(n), p.title).toBe(true);
      expect(x, p.title).toBeGreaterThanOrEqual(0);
      expect(w, p.title).toBeGreaterThan(0);
      expect(h, p.title).toBeGreaterThan(0);
      expect(x + w, p.title).toBeLessThanOrEqual(24);
    }
    const overlaps = (a: Panel, b: Panel) =>
      a.gridPos.x < b.gridPos.x + b.gridPos.w &&
      b.gridPos.x < a.gridPos.x + a.gridPos.w &&
      a.gridPos.y < b.gridPos.y + b.gridPos.h &&
      b.gridPos.y < a.gridPos.y + a.gridPos.h;
    for (let i = 0; i < panels.length; i++)
      for (let j = i + 1; j < panels.length; j++)
        expect(overlaps(panels[i]!, panels[j]!), `${panels[i]!.title} overlaps ${panels[j]!.title}`).toBe(false);
  });

  it('uses the datasource variable in every panel and target, and every target has an expr', () => {
    expect(dataPanels.length).toBeGreaterThan(5);
    for (const p of dataPanels) {
      expect(p.datasource, p.title).toEqual(DATASOURCE);
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      expect(p.description, p.title).toBeTruthy();
      for (const t of p.targets ?? []) {
        expect(t.datasource, `${p.title} ${t.refId}`).toEqual(DATASOURCE);
        expect(t.expr?.trim(), `${p.title} ${t.refId}`).toBeTruthy();
      }
    }
  });

  it('filters every series by namespace, job and pod', () => {
    for (const q of panelQueries(d)) {
      const selectors = [...q.expr.matchAll(/\b(?:herald|process|nodejs)_[a-z0-9_]+\{([^}]*)\}/g)];
      expect(selectors.length, `${q.panel}: ${q.expr}`).toBeGreaterThan(0);
      for (const s of selectors) {
        expect(s[1], `${q.panel}: ${q.expr}`).toContain('namespace=~"$namespace", job=~"$job", pod=~"$pod"');
      }
    }
  });

  it('reads only metrics of the shared contract', () => {
    for (const q of panelQueries(d)) {
      const names = metricNames(q.expr);
      expect(names.length, q.expr).toBeGreaterThan(0);
      for (const n of names) expect(isKnownMetric(n), `${q.panel}: unknown metric ${n}`).toBe(true);
    }
  });

  it('parses as PromQL once variables are substituted (promtool)', () => {
    const exprs = panelQueries(d).map((q) => ({ name: `${q.panel} ${q.refId}`, expr: substitute(q.expr, OFFLINE_VARS) }));
    const r = checkExpressions(exprs);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status, r.output).toBe(0);
  });

  it('draws the SLO thresholds: p99 25 ms on latency, 1 % on failure and error ratios', () => {
    const threshold = (p: Panel) => p.fieldConfig?.defaults?.thresholds?.steps?.find((s) => s.value !== null)?.value;
    const latency = dataPanels.filter((p) => /latency/i.test(p.title) && (p.targets ?? []).some((t) => /0\.99/.test(t.expr ?? '')));
    const ratios = dataPanels.filter((p) => /failure rate|5xx ratio/i.test(p.title));
    expect(latency.length).toBeGreaterThan(0);
    for (const p of latency) expect(threshold(p), p.title).toBe(0.025);
    if (d.uid === 'herald-overview') expect(ratios.length).toBe(2);
    else expect(ratios.length).toBe(1);
    for (const p of ratios) {
      expect(threshold(p), p.title).toBe(0.01);
      expect(p.fieldConfig?.defaults?.unit).toBe('percentunit');
    }
  });
});

describe('overview dashboard covers what issue 8 asks for', () => {
  const d = loadDashboard(files.find((f) => f.endsWith('herald-overview.json'))!);
  const exprs = panelQueries(d).map((q) => q.expr).join('\n');
  it.each([
    ['connections per pod', /sum by \(pod\) \(herald_edge_connections\{/],
    ['connections per transport', /sum by \(transport\) \(herald_edge_connections\{/],
    ['connect rate', /rate\(herald_edge_connections_opened_total/],
    ['failure rate by reason', /sum by \(reason\) \(rate\(herald_edge_connection_failures_total/],
    ['delivery rate', /rate\(herald_edge_messages_delivered_total/],
    ['latency p50', /histogram_quantile\(0\.5, sum by \(le\) \(rate\(herald_edge_delivery_latency_seconds_bucket/],
    ['latency p95', /histogram_quantile\(0\.95,/],
    ['latency p99', /histogram_quantile\(0\.99,/],
    ['slow consumers', /reason="slow_consumer"/],
    ['resume gaps', /herald_edge_resumes_total\{[^}]*result="gap"/],
    ['NATS subscriptions per pod', /sum by \(pod\) \(herald_edge_nats_subscriptions/],
    ['pod count', /count\(herald_edge_ready/],
    ['drain events', /herald_edge_drains_total/],
  ])('%s', (_what, re) => {
    expect(exprs).toMatch(re);
  });
});

describe('publisher dashboard covers what issue 8 asks for', () => {
  const d = loadDashboard(files.find((f) => f.endsWith('herald-publisher.json'))!);
  const exprs = panelQueries(d).map((q) => q.expr).join('\n');
  it.each([
    ['request rate', /sum by \(route\) \(rate\(herald_publisher_requests_total/],
    ['status mix', /sum by \(status\) \(rate\(herald_publisher_requests_total/],
    ['publish latency', /histogram_quantile\(0\.99, sum by \(le\) \(rate\(herald_publisher_publish_duration_seconds_bucket/],
    ['rejections by reason', /sum by \(reason\) \(rate\(herald_publisher_rejected_total/],
    ['sanitised values', /herald_publisher_sanitized_values_total/],
    ['rate limited', /herald_publisher_rate_limited_total/],
  ])('%s', (_what, re) => {
    expect(exprs).toMatch(re);
  });
});
