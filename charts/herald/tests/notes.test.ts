// NOTES.txt tells the operator the next commands. `helm template` does not render NOTES.txt and
// `helm install --dry-run` needs a cluster, so the test renders it as a template in a copy of the chart.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHART_DIR, VALUE_SETS, get, helm, parseObjects } from './helm.js';

let copy = '';
beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), 'herald-notes-'));
  cpSync(CHART_DIR, copy, { recursive: true, filter: (src) => !src.includes('node_modules') && !src.includes('/tests') });
  const notes = readFileSync(join(CHART_DIR, 'templates/NOTES.txt'), 'utf8');
  writeFileSync(join(copy, 'templates/_notes_under_test.tpl'), `{{- define "notes-under-test" -}}\n${notes}\n{{- end -}}\n`);
  writeFileSync(
    join(copy, 'templates/notes-under-test.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes-under-test\ndata:\n  notes: |\n{{ include "notes-under-test" . | indent 4 }}\n',
  );
});
afterAll(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
});

async function notes(files: string[]): Promise<string> {
  const res = await helm(['template', 'hr', copy, '-n', 'herald', '--show-only', 'templates/notes-under-test.yaml', ...files.flatMap((f) => ['-f', f])]);
  expect(res.code, res.stderr).toBe(0);
  return get(parseObjects(res.stdout)[0], 'data.notes') as string;
}

describe('NOTES.txt', () => {
  it('kind: tells the next commands (rollout, helm test with its Secret, where to connect, dev NATS warning)', async () => {
    const text = await notes(VALUE_SETS.kind as string[]);
    expect(text).toContain('kubectl -n herald rollout status deployment/hr-herald-edge');
    expect(text).toContain('kubectl -n herald rollout status statefulset/hr-herald-nats');
    expect(text).toContain('for kind/minikube only');
    expect(text).toContain('helm test hr -n herald --logs');
    expect(text).toContain('Secret "herald-test-tokens"');
    expect(text).toContain('ws://localhost/ws');
    expect(text).toContain('herald_edge_connections');
  });

  it('production: wss/https through the TLS host; everything-off: port-forward instead of an ingress', async () => {
    const prod = await notes(VALUE_SETS.production as string[]);
    expect(prod).toContain('wss://notify.example.com/ws');
    expect(prod).toContain('https://notify.example.com/sse');
    expect(prod).not.toContain('statefulset/');
    const off = await notes(VALUE_SETS['everything-off'] as string[]);
    expect(off).toContain('kubectl -n herald port-forward svc/hr-herald-edge 8080:8080');
    expect(off).toContain('tests.enabled is false');
  });
});
