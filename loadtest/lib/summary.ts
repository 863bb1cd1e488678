// handleSummary helpers: the full end-of-test data as JSON under RESULTS_DIR, and a short text
// report on stdout (thresholds first, then the metrics this project cares about). Self-contained
// rather than the jslib k6-summary import, so a run needs no network access to jslib.k6.io.
import { RESULTS_DIR } from './config.ts';

interface MetricSummary {
  type: 'counter' | 'gauge' | 'rate' | 'trend';
  contains: 'default' | 'time' | 'data';
  values: Record<string, number>;
  thresholds?: Record<string, { ok: boolean }>;
}

/** The subset of k6's end-of-test summary object these helpers read. */
export interface SummaryData {
  metrics: Record<string, MetricSummary>;
  state: { testRunDurationMs: number };
}

/** Trend statistics every script reports (p(99) is not in k6's default list). */
export const TREND_STATS = ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max', 'count'];

function fmt(m: MetricSummary, key: string, v: number): string {
  if (m.type === 'rate') return `${(v * 100).toFixed(2)}%`;
  if (m.contains === 'time' && key !== 'count') return `${v.toFixed(2)}ms`;
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

export function textReport(name: string, data: SummaryData, highlight: string[]): string {
  const lines = [`herald ${name}: ${(data.state.testRunDurationMs / 1000).toFixed(1)} s`];
  let failed = 0;
  for (const [metric, m] of Object.entries(data.metrics)) {
    for (const [expr, t] of Object.entries(m.thresholds ?? {})) {
      if (!t.ok) failed++;
      lines.push(`  ${t.ok ? 'ok  ' : 'FAIL'} ${metric}: ${expr}`);
    }
  }
  for (const metric of highlight) {
    const m = data.metrics[metric];
    if (!m) continue;
    const vals = Object.entries(m.values).map(([k, v]) => `${k}=${fmt(m, k, v)}`);
    lines.push(`  ${metric}: ${vals.join(' ')}`);
  }
  lines.push(failed === 0 ? '  all thresholds passed' : `  ${failed} threshold(s) failed`);
  return `${lines.join('\n')}\n`;
}

/** What handleSummary returns: k6 writes each key (a path, or "stdout") with its value. */
export function summaryOutputs(name: string, data: SummaryData, highlight: string[]): Record<string, string> {
  return {
    [`${RESULTS_DIR}/${name}.json`]: JSON.stringify(data, null, 2),
    stdout: textReport(name, data, highlight),
  };
}
