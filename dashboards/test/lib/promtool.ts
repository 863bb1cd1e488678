import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface ToolResult {
  status: number | null;
  output: string;
}

/** Run promtool (installed by `make tools` from Debian's prometheus package). */
export function promtool(args: string[], cwd?: string): ToolResult {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new Error(`promtool could not run (${r.error.message}): run \`make tools\` first`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Parse-check PromQL expressions offline by wrapping each in a recording rule for `promtool check rules`. */
export function checkExpressions(exprs: Array<{ name: string; expr: string }>): ToolResult {
  const dir = mkdtempSync(join(tmpdir(), 'herald-promql-'));
  try {
    const file = join(dir, 'exprs.yaml');
    const rules = exprs.map((e, i) => ({ record: `panel:expr_${i}`, expr: e.expr, labels: { panel: e.name } }));
    writeFileSync(file, stringify({ groups: [{ name: 'panels', rules }] }));
    return promtool(['check', 'rules', file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
