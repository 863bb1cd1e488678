// values.schema.json closes every object (additionalProperties: false), so a typo in a value
// fails the install instead of being silently ignored; values.yaml documents every value.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseDocument, isMap, isScalar, isSeq, type Node } from 'yaml';
import { describe, expect, it } from 'vitest';
import { type Any, CHART_DIR, VALUE_SETS, template } from './helm.js';

const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as Any;
const valuesText = readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8');
const values = parse(valuesText) as Any;

const isTyped = (p: string): boolean =>
  /(securityContext|containerSecurityContext|resources|strategy|livenessProbe|readinessProbe|affinity)$/.test(p);

describe('values.schema.json', () => {
  it('rejects an unknown value: helm template fails', async () => {
    for (const bad of ['edge.replicas=3', 'ingress.stickyy=true', 'bogus=1', 'nats.edge.pasword=x', 'edge.drain.windowSecs=5']) {
      const res = await template({ files: VALUE_SETS.defaults as string[], set: [bad] });
      expect(res.code, bad).not.toBe(0);
      expect(res.stderr, bad).toMatch(/additional propert/i);
    }
  });

  it('rejects values of the wrong shape', async () => {
    for (const bad of [
      'ingress.sticky.cookieSameSite=Sometimes',
      'edge.config.allowedOrigins={*}',
      'logLevel=loud',
      'edge.port=0',
      'nats.edge.authType=anonymous',
      'edge.jwt.algorithms={none}',
      'subjectPrefix=a.b.>',
    ]) {
      const res = await template({ files: VALUE_SETS.defaults as string[], set: [bad] });
      expect(res.code, bad).not.toBe(0);
    }
  });

  it('fails with a clear message when the inputs it cannot guess are missing', async () => {
    const res = await template({});
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/jwt: set exactly one of jwksUrl, publicKey, existingSecret|nats\.url is required|is required/);
    const noNats = await template({ files: VALUE_SETS.defaults as string[], set: ['nats.url='] });
    expect(noNats.stderr).toMatch(/nats\.url is required/);
    const tooBig = await template({ files: VALUE_SETS['dev-nats'] as string[], set: ['nats.cluster.storageSize=1Gi'] });
    expect(tooBig.stderr).toMatch(/publisher\.stream\.maxBytes .* must be at most 80% of nats\.cluster\.storageSize/);
    const twoKeys = await template({ files: VALUE_SETS.defaults as string[], set: ['edge.jwt.existingSecret=k'] });
    expect(twoKeys.stderr).toMatch(/edge\.jwt: set exactly one of/);
  });

  it('closes every object and covers exactly the keys of values.yaml', () => {
    const open: string[] = [];
    const walk = (s: Any, path: string): void => {
      if (!s || typeof s !== 'object') return;
      if (s.type === 'object' || s.properties) {
        if (s.properties && s.additionalProperties !== false) open.push(path);
        if (!s.properties && (s.additionalProperties === undefined || s.additionalProperties === true)) {
          // Free-form objects are passthrough Kubernetes objects (list items such as env, tolerations).
          if (!path.endsWith('[]') && !/(nodeAffinity|podAffinity|podAntiAffinity|valueFrom)$/.test(path)) open.push(path);
        }
      }
      for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, `${path}.${k}`);
      if (s.items) walk(s.items, `${path}[]`);
    };
    walk(schema, '');
    expect(open).toEqual([]);

    const keysOf = (v: Any, s: Any, path: string, out: string[]): string[] => {
      if (v && typeof v === 'object' && !Array.isArray(v) && s?.properties) {
        const schemaKeys = Object.keys(s.properties).sort();
        // Typed Kubernetes objects (securityContext, resources, ...) may allow more fields than the defaults set.
        if (isTyped(path)) for (const k of Object.keys(v)) expect(schemaKeys, path).toContain(k);
        else expect(schemaKeys, path || 'root').toEqual(Object.keys(v).sort());
        if (!isTyped(path)) for (const k of Object.keys(v)) keysOf(v[k], s.properties[k], `${path}.${k}`, out);
      }
      out.push(path);
      return out;
    };
    expect(keysOf(values, schema, '', []).length).toBeGreaterThan(100);
  });

  it('every value in values.yaml carries a `# --` doc comment', () => {
    const doc = parseDocument(valuesText);
    const undocumented: string[] = [];
    const walk = (node: Node | null, path: string): void => {
      if (!isMap(node)) return;
      node.items.forEach((pair, i) => {
        const key = isScalar(pair.key) ? String(pair.key.value) : '?';
        const p = path ? `${path}.${key}` : key;
        // yaml attaches the comment above a map's first key to the map itself.
        const comment = (isScalar(pair.key) ? pair.key.commentBefore : undefined) ?? (i === 0 ? node.commentBefore : undefined) ?? '';
        const v = pair.value as Node | null;
        const isSection = isMap(v) && v.items.length > 0 && !isLeafMap(p);
        if (isSection) walk(v, p);
        else if (!/(^|\n) ?-- /.test(comment)) undocumented.push(p);
      });
    };
    // Maps that are one value (a securityContext, resources, a strategy), documented as a whole.
    const isLeafMap = isTyped;
    walk(doc.contents as Node, '');
    expect(undocumented.join('\n')).toBe('');
    void isSeq;
  });
});
