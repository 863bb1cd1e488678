// Builds the values table of README.md from values.yaml's `# --` comments (helm-docs style), so the
// README cannot drift from the values. `pnpm --filter @herald/chart run readme` rewrites it;
// tests/readme.test.ts fails when it is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, type Node, parseDocument } from 'yaml';

const CHART_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const START = '<!-- values:start -->';
export const END = '<!-- values:end -->';
const TYPED = /(securityContext|containerSecurityContext|resources|strategy|livenessProbe|readinessProbe)$/;

export function valuesTable(valuesText: string): string {
  const doc = parseDocument(valuesText);
  const rows: string[] = ['| key | default | description |', '|---|---|---|'];
  const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const walk = (node: Node | null, path: string): void => {
    if (!isMap(node)) return;
    node.items.forEach((pair, i) => {
      const key = isScalar(pair.key) ? String(pair.key.value) : '?';
      const p = path ? `${path}.${key}` : key;
      const comment = (isScalar(pair.key) ? pair.key.commentBefore : undefined) ?? (i === 0 ? node.commentBefore : undefined) ?? '';
      const v = pair.value as Node | null;
      if (isMap(v) && v.items.length > 0 && !TYPED.test(p)) {
        walk(v, p);
        return;
      }
      const doc = /(?:^|\n) ?-- ([\s\S]*)$/.exec(comment)?.[1]?.split('\n').map((l) => l.trim()).join(' ') ?? '';
      const value = JSON.stringify((v as { toJSON?: () => unknown })?.toJSON?.() ?? null);
      rows.push(`| \`${p}\` | \`${cell(value.length > 60 ? `${value.slice(0, 57)}...` : value)}\` | ${cell(doc)} |`);
    });
  };
  walk(doc.contents as Node, '');
  return rows.join('\n');
}

export function renderReadme(readme: string, valuesText: string): string {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md lacks the ${START} … ${END} markers`);
  return `${readme.slice(0, a + START.length)}\n${valuesTable(valuesText)}\n${readme.slice(b)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const readmePath = join(CHART_DIR, 'README.md');
  writeFileSync(readmePath, renderReadme(readFileSync(readmePath, 'utf8'), readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')));
  console.log('README.md values table updated');
}
