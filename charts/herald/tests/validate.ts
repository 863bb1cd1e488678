// Offline validation of rendered objects against the Kubernetes API schemas, using the
// JSON-schema validators that the `kubernetes-models` package compiles from the Kubernetes
// OpenAPI spec, and `@kubernetes-models/prometheus-operator` for ServiceMonitor and
// PrometheusRule (compiled from the prometheus-operator CRDs).
import type { K8sObject } from './helm.js';

interface Validatable {
  validate(): void;
}
type ModelCtor = new (data: unknown) => Validatable;

/** apiVersion → module prefix of its models. */
function modulePath(apiVersion: string, kind: string): string {
  if (apiVersion === 'monitoring.coreos.com/v1') {
    return `@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/${kind}`;
  }
  // core group "v1" lives at kubernetes-models/v1, others at kubernetes-models/<group>/<version>.
  return `kubernetes-models/${apiVersion}/${kind}`;
}

const cache = new Map<string, ModelCtor>();

async function model(apiVersion: string, kind: string): Promise<ModelCtor> {
  const path = modulePath(apiVersion, kind);
  const hit = cache.get(path);
  if (hit) return hit;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(path)) as Record<string, unknown>;
  } catch {
    throw new Error(`no schema for ${apiVersion} ${kind} (is the apiVersion served by Kubernetes?)`);
  }
  const ctor = mod[kind] as ModelCtor | undefined;
  if (typeof ctor !== 'function') throw new Error(`no model class ${kind} in ${path}`);
  cache.set(path, ctor);
  return ctor;
}

/** Returns a readable error per invalid object (empty when all are valid). */
export async function validateAll(objs: K8sObject[]): Promise<string[]> {
  const errors: string[] = [];
  for (const o of objs) {
    const id = `${o.kind}/${o.metadata?.name}`;
    try {
      const Ctor = await model(o.apiVersion, o.kind);
      new Ctor(o).validate();
    } catch (err) {
      const e = err as { message?: string; details?: unknown };
      errors.push(`${id}: ${e.message ?? String(err)}${e.details ? ` ${JSON.stringify(e.details)}` : ''}`);
    }
  }
  return errors;
}
