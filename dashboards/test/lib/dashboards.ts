import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DASHBOARDS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const REPO_ROOT = resolve(DASHBOARDS_DIR, '..');
export const ALERTS_FILE = join(DASHBOARDS_DIR, 'alerts.yaml');
export const ALERTS_TEST_FILE = join(DASHBOARDS_DIR, 'alerts.test.yaml');

export interface Target {
  refId: string;
  expr?: string;
  legendFormat?: string;
  datasource?: { type?: string; uid?: string };
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type?: string; uid?: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  panels?: Panel[];
  fieldConfig?: { defaults?: { unit?: string; thresholds?: { steps?: Array<{ color: string; value: number | null }> } } };
}

export interface Variable {
  type: string;
  name: string;
  query?: unknown;
  definition?: string;
  datasource?: { type?: string; uid?: string };
  includeAll?: boolean;
  multi?: boolean;
  allValue?: string;
}

export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
  [k: string]: unknown;
}

export function dashboardFiles(): string[] {
  return readdirSync(DASHBOARDS_DIR)
    .filter((f) => f.startsWith('herald-') && f.endsWith('.json'))
    .sort()
    .map((f) => join(DASHBOARDS_DIR, f));
}

export function loadDashboard(file: string): Dashboard {
  return JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
}

/** Every panel, rows' nested panels included. */
export function allPanels(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

export interface PanelQuery {
  dashboard: string;
  panel: string;
  refId: string;
  expr: string;
}

export function panelQueries(d: Dashboard): PanelQuery[] {
  return allPanels(d).flatMap((p) =>
    (p.targets ?? []).map((t) => ({ dashboard: d.uid, panel: p.title, refId: t.refId, expr: t.expr ?? '' })),
  );
}

/**
 * Substitute Grafana template variables the way Grafana does before it sends a query:
 * `$var`/`${var}` from `vars` (a multi-value "All" becomes the variable's allValue) and the
 * built-in intervals.
 */
export function substitute(expr: string, vars: Record<string, string>): string {
  return expr.replace(/\$\{?(__[a-z_]+|[A-Za-z_][A-Za-z0-9_]*)\}?/g, (whole, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new Error(`no value for template variable ${whole} in ${expr}`);
    return v;
  });
}

/** The metric names a PromQL expression reads (herald_*, process_*, nodejs_*, up). */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/\b((?:herald|process|nodejs)_[a-z0-9_]+)\b/g)) names.add(m[1]!);
  return [...names];
}
