// README.md's values table is generated from values.yaml; it fails here when stale.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderReadme, valuesTable } from '../scripts/values-table.js';
import { CHART_DIR } from './helm.js';

describe('README.md', () => {
  it('carries the current values table (run `pnpm --filter @herald/chart run readme`)', () => {
    const readme = readFileSync(join(CHART_DIR, 'README.md'), 'utf8');
    const values = readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8');
    expect(readme).toBe(renderReadme(readme, values));
    const table = valuesTable(values);
    for (const key of ['edge.drain.windowSeconds', 'ingress.sticky.enabled', 'nats.deploy', 'autoscaling.edge.connections.metricName']) {
      expect(table).toContain(`| \`${key}\` |`);
    }
  });
});
