// Unknown-field check. The Kubernetes OpenAPI schemas (and so kubernetes-models' validators) are
// open: a misspelt field such as `readinesProbe` validates, and the API server drops it with a
// warning. The models' TypeScript declarations are closed, so this walks every rendered object
// against its declared type with the TypeScript checker and reports any key the type lacks.
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { CHART_DIR, type K8sObject } from './helm.js';

interface Checker {
  checker: ts.TypeChecker;
  types: Map<string, ts.Type>;
}

let cached: Checker | undefined;
const KINDS: Record<string, string> = {
  'v1/ConfigMap': 'kubernetes-models/v1/ConfigMap',
  'v1/Secret': 'kubernetes-models/v1/Secret',
  'v1/Service': 'kubernetes-models/v1/Service',
  'v1/ServiceAccount': 'kubernetes-models/v1/ServiceAccount',
  'v1/Pod': 'kubernetes-models/v1/Pod',
  'apps/v1/Deployment': 'kubernetes-models/apps/v1/Deployment',
  'apps/v1/StatefulSet': 'kubernetes-models/apps/v1/StatefulSet',
  'autoscaling/v2/HorizontalPodAutoscaler': 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
  'policy/v1/PodDisruptionBudget': 'kubernetes-models/policy/v1/PodDisruptionBudget',
  'networking.k8s.io/v1/Ingress': 'kubernetes-models/networking.k8s.io/v1/Ingress',
  'networking.k8s.io/v1/NetworkPolicy': 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
  'monitoring.coreos.com/v1/ServiceMonitor': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor',
  'monitoring.coreos.com/v1/PrometheusRule': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule',
};

function load(): Checker {
  if (cached) return cached;
  const dir = mkdtempSync(join(CHART_DIR, 'node_modules/.strict-'));
  const file = join(dir, 'types.ts');
  const entries = Object.entries(KINDS);
  writeFileSync(
    file,
    entries
      .map(([key, mod], i) => {
        const kind = key.split('/').at(-1) as string;
        // Real paths (pnpm symlinks) so the models' own imports resolve from their store folder.
        return `import type { I${kind} as T${i} } from '${realpathSync(join(CHART_DIR, 'node_modules', `${mod}.d.ts`)).replace(/\.d\.ts$/, '')}';\nexport type K${i} = T${i};`;
      })
      .join('\n'),
  );
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    skipLibCheck: false,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    types: [],
  });
  // Unresolved types would turn into `any` and make the check vacuous: refuse any diagnostic.
  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length > 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`strict check: the model types do not compile:\n${ts.formatDiagnostics(diagnostics.slice(0, 5), {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => CHART_DIR,
      getNewLine: () => '\n',
    })}`);
  }
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  if (!source) throw new Error('strict check: cannot load the type entry file');
  const types = new Map<string, ts.Type>();
  for (const stmt of source.statements) {
    if (ts.isTypeAliasDeclaration(stmt)) {
      const i = Number(stmt.name.text.slice(1));
      types.set(entries[i]?.[0] as string, checker.getTypeAtLocation(stmt.name));
    }
  }
  rmSync(dir, { recursive: true, force: true });
  cached = { checker, types };
  return cached;
}

/** Object-like members of a type (drops undefined/null/primitives from unions). */
function objectParts(t: ts.Type): ts.Type[] {
  const parts = t.isUnion() ? t.types : [t];
  return parts.filter((p) => (p.flags & ts.TypeFlags.Object) !== 0);
}

function walk(c: ts.TypeChecker, value: unknown, type: ts.Type, path: string, out: string[]): void {
  if (value === null || typeof value !== 'object') return;
  const objs = objectParts(type);
  if (objs.length === 0) return;
  if (Array.isArray(value)) {
    const arr = objs.find((o) => c.isArrayType(o));
    const item = arr ? c.getTypeArguments(arr as ts.TypeReference)[0] : undefined;
    if (item) value.forEach((v, i) => walk(c, v, item, `${path}[${i}]`, out));
    return;
  }
  // Free-form maps (labels, annotations, data, matchLabels) carry an index signature.
  for (const o of objs) {
    const index = c.getIndexTypeOfType(o, ts.IndexKind.String);
    if (index) {
      for (const [k, v] of Object.entries(value)) walk(c, v, index, `${path}.${k}`, out);
      return;
    }
  }
  const props = new Map<string, ts.Symbol>();
  for (const o of objs) for (const p of c.getPropertiesOfType(o)) props.set(p.name, p);
  if (props.size === 0) return;
  for (const [k, v] of Object.entries(value)) {
    const sym = props.get(k);
    if (!sym) {
      out.push(`${path}.${k}`);
      continue;
    }
    const decl = sym.valueDeclaration ?? sym.declarations?.[0];
    if (decl) walk(c, v, c.getTypeOfSymbolAtLocation(sym, decl), `${path}.${k}`, out);
  }
}

/** Paths of fields that the object's API type does not declare. */
export function unknownFields(objs: K8sObject[]): string[] {
  const { checker, types } = load();
  const out: string[] = [];
  for (const o of objs) {
    const key = `${o.apiVersion}/${o.kind}`;
    const t = types.get(key);
    if (!t) {
      out.push(`${key}: no type to check against`);
      continue;
    }
    walk(checker, o, t, `${o.kind}/${o.metadata.name}`, out);
  }
  return out;
}
