import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ALERTS_FILE, ALERTS_TEST_FILE, DASHBOARDS_DIR, metricNames } from './lib/dashboards.js';
import { isKnownMetric } from './lib/metrics.js';
import { promtool } from './lib/promtool.js';

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RulesFile {
  groups: Array<{ name: string; interval?: string; rules: Rule[] }>;
}
interface UnitTests {
  rule_files: string[];
  tests: Array<{ name: string; alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
}

const rules = parse(readFileSync(ALERTS_FILE, 'utf8')) as RulesFile;
const unit = parse(readFileSync(ALERTS_TEST_FILE, 'utf8')) as UnitTests;
const allRules = rules.groups.flatMap((g) => g.rules);
const alertNames = [...new Set(allRules.flatMap((r) => (r.alert ? [r.alert] : [])))];

describe('alerts.yaml', () => {
  it('passes promtool check rules', () => {
    const r = promtool(['check', 'rules', ALERTS_FILE]);
    expect(r.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status, r.output).toBe(0);
  });

  it('passes its promtool unit tests (alerts.test.yaml)', () => {
    const r = promtool(['test', 'rules', ALERTS_TEST_FILE], DASHBOARDS_DIR);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status, r.output).toBe(0);
  });

  it('has the alerts issue 8 asks for, anomaly rules included', () => {
    expect(alertNames).toEqual(
      expect.arrayContaining([
        'HeraldConnectionFailureRateHigh',
        'HeraldDeliveryLatencyBudgetBurn',
        'HeraldConnectionsDropped',
        'HeraldConnectionFailureAnomaly',
        'HeraldSlowConsumerSpike',
        'HeraldNatsDisconnected',
        'HeraldPublisher5xx',
        'HeraldEdgeNotReady',
      ]),
    );
    const burn = allRules.filter((r) => r.alert === 'HeraldDeliveryLatencyBudgetBurn');
    expect(burn.map((r) => r.labels?.severity).sort()).toEqual(['critical', 'warning']);
    expect(allRules.find((r) => r.alert === 'HeraldConnectionFailureAnomaly')?.expr).toMatch(/stddev_over_time\(.*\[1h\]/);
    expect(allRules.find((r) => r.alert === 'HeraldConnectionsDropped')?.expr).toMatch(/offset 1h/);
    expect(allRules.find((r) => r.alert === 'HeraldConnectionFailureRateHigh')).toMatchObject({ for: '5m' });
  });

  it('gives every alert a severity, a summary, a description and a runbook section that exists', () => {
    const ops = readFileSync(join(DASHBOARDS_DIR, '..', 'docs', 'operations.md'), 'utf8').toLowerCase();
    for (const r of allRules.filter((x) => x.alert)) {
      expect(['critical', 'warning'], r.alert).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
      expect(r.annotations?.description, r.alert).toBeTruthy();
      expect(r.annotations?.runbook, r.alert).toBe(`docs/operations.md#${r.alert!.toLowerCase()}`);
      expect(ops, `docs/operations.md has a section for ${r.alert}`).toContain(`### ${r.alert!.toLowerCase()}`);
    }
  });

  it('reads only metrics of the shared contract and its own recording rules', () => {
    const recorded = new Set(allRules.flatMap((r) => (r.record ? [r.record] : [])));
    for (const r of allRules) {
      for (const n of metricNames(r.expr)) expect(isKnownMetric(n), `${r.record ?? r.alert}: ${n}`).toBe(true);
      for (const m of r.expr.matchAll(/\bherald:[a-z0-9_:]+/g)) expect(recorded.has(m[0]), m[0]).toBe(true);
    }
  });
});

describe('alerts.test.yaml', () => {
  it('has, for every alert, a case where it fires and one where it stays quiet', () => {
    const cases = unit.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const name of alertNames) {
      const mine = cases.filter((c) => c.alertname === name);
      expect(mine.some((c) => c.exp_alerts.length > 0), `${name} fires somewhere`).toBe(true);
      expect(mine.some((c) => c.exp_alerts.length === 0), `${name} is quiet somewhere`).toBe(true);
    }
  });

  it('fails when a rule is broken (the unit tests can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-rules-'));
    try {
      copyFileSync(ALERTS_TEST_FILE, join(dir, 'alerts.test.yaml'));
      // Raise the failure-rate threshold from 1 % to 10 %: the 5 % case must now fail.
      const broken = readFileSync(ALERTS_FILE, 'utf8').replace(
        'herald:edge_connection_failure_ratio:rate5m > 0.01',
        'herald:edge_connection_failure_ratio:rate5m > 0.1',
      );
      expect(broken).not.toBe(readFileSync(ALERTS_FILE, 'utf8'));
      writeFileSync(join(dir, 'alerts.yaml'), broken);
      const r = promtool(['test', 'rules', 'alerts.test.yaml'], dir);
      expect(r.status).not.toBe(0);
      expect(r.output).toMatch(/HeraldConnectionFailureRateHigh/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
