// The operator path (k8s/, mk/chart.mk, docs/kubernetes.md) cannot run here (no Docker, no kind),
// so what can be checked statically is: scripts parse, the make targets refuse clearly without
// the tools, versions are pinned consistently, and names agree between scripts, values and chart.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Any, type K8sObject, REPO_ROOT, VALUE_SETS, get, one, render } from './helm.js';

const run = promisify(execFile);
const read = (p: string): string => readFileSync(join(REPO_ROOT, p), 'utf8');
const scripts = [
  ...readdirSync(join(REPO_ROOT, 'k8s/scripts')).filter((f) => f.endsWith('.sh')).map((f) => `k8s/scripts/${f}`),
  'k8s/minikube/up.sh',
];

let kind: K8sObject[] = [];
beforeAll(async () => {
  kind = await render({ files: VALUE_SETS.kind as string[] });
});

describe('k8s/ scripts and make targets', () => {
  it.each(scripts)('%s parses (bash -n) and fails fast (set -euo pipefail)', async (s) => {
    await run('bash', ['-n', join(REPO_ROOT, s)]);
    const text = read(s);
    if (s.endsWith('/lib.sh')) return; // sourced by the others, which set the shell options through it
    expect(text.startsWith('#!/usr/bin/env bash')).toBe(true);
    expect(text.includes('set -euo pipefail') || text.includes('source "$(dirname "$0")/lib.sh"')).toBe(true);
  });

  it('JavaScript helpers parse (mint-tokens, the k6 smoke script, the helm test script)', async () => {
    for (const f of ['k8s/scripts/mint-tokens.mjs', 'k8s/k6/smoke.js', 'charts/herald/files/smoke.mjs']) {
      await run(process.execPath, ['--check', join(REPO_ROOT, f)]);
    }
  });

  it('every kind-* target stops with a clear message when docker/kind are missing', async () => {
    // A PATH with only basic tools (no docker, kind, kubectl): the check must catch it before anything runs.
    const bin = mkdtempSync(join(tmpdir(), 'herald-nokind-'));
    for (const tool of ['bash', 'sh', 'grep', 'sed', 'awk', 'cat', 'sort', 'tr', 'head', 'mkdir', 'rm', 'cp']) {
      const { stdout } = await run('bash', ['-c', `command -v ${tool}`]);
      symlinkSync(stdout.trim(), join(bin, tool));
    }
    const make = (await run('bash', ['-c', 'command -v make'])).stdout.trim();
    for (const target of ['kind-up', 'kind-load', 'kind-install', 'kind-test', 'kind-down']) {
      const res = await run(make, ['--no-print-directory', '-s', target], {
        cwd: REPO_ROOT,
        env: { PATH: bin, HOME: process.env.HOME ?? '/tmp' },
      }).then(
        () => ({ code: 0, out: '' }),
        (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, out: `${e.stdout}${e.stderr}` }),
      );
      expect(res.code, target).not.toBe(0);
      expect(res.out, target).toMatch(/kind targets need Docker, kind and kubectl on this machine; missing: docker kind kubectl/);
    }
    rmSync(bin, { recursive: true, force: true });
  });

  it('make test never runs a kind target', () => {
    const mk = read('mk/chart.mk');
    expect(mk).not.toMatch(/TEST_STEPS\s*\+?=.*kind/);
    expect(mk).toMatch(/TOOLS_TARGETS \+= \$\(HELM_STAMP\)/);
    expect(mk).toMatch(/go install -ldflags "\$\(HELM_LDFLAGS\)" helm\.sh\/helm\/v3\/cmd\/helm@\$\(HELM_VERSION\)/);
    expect(mk).toMatch(/HELM_VERSION := v3\.22\.0/);
  });
});

describe('pins and names agree', () => {
  const lib = read('k8s/scripts/lib.sh');
  const docs = read('docs/kubernetes.md');
  const pin = (name: string): string => {
    const m = new RegExp(`${name}="\\$\\{${name}:-([^}]+)\\}"`).exec(lib);
    expect(m, name).not.toBeNull();
    return m?.[1] as string;
  };

  it('the versions in lib.sh are the ones docs/kubernetes.md tells the operator', () => {
    const nodeImage = pin('KIND_NODE_IMAGE');
    expect(nodeImage).toMatch(/^kindest\/node:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
    expect(docs).toContain(nodeImage);
    for (const name of ['INGRESS_NGINX_CHART_VERSION', 'KUBE_PROMETHEUS_STACK_VERSION', 'PROMETHEUS_ADAPTER_VERSION']) {
      const v = pin(name);
      expect(v).toMatch(/^\d+\.\d+\.\d+$/);
      expect(docs, name).toContain(v);
    }
    const kindVersion = /KIND_VERSION_PINNED="(v[\d.]+)"/.exec(lib)?.[1] as string;
    expect(docs).toContain(`kind | ${kindVersion}`);
    const natsTag = (parse(read('charts/herald/values.yaml')) as Any).nats.cluster.image.tag as string;
    expect(docs).toContain(natsTag);
    expect(natsTag.startsWith(read('Makefile').match(/NATS_VERSION := v([\d.]+)/)?.[1] ?? 'x')).toBe(true);
  });

  it('kind cluster: an ingress-ready node with host ports 80/443 on loopback, and workers', () => {
    const cluster = parse(read('k8s/kind/cluster.yaml')) as Any;
    const cp = cluster.nodes.find((n: Any) => n.role === 'control-plane');
    expect(cp.kubeadmConfigPatches.join('\n')).toContain('ingress-ready=true');
    expect(cp.extraPortMappings.map((m: Any) => [m.containerPort, m.hostPort, m.listenAddress])).toEqual([
      [80, 80, '127.0.0.1'],
      [443, 443, '127.0.0.1'],
    ]);
    expect(cluster.nodes.filter((n: Any) => n.role === 'worker').length).toBeGreaterThanOrEqual(2);
    const ingress = parse(read('k8s/kind/ingress-nginx.yaml')) as Any;
    expect(ingress.controller.nodeSelector['ingress-ready']).toBe('true');
    expect(ingress.controller.hostPort.enabled).toBe(true);
  });

  it('the adapter serves the metric the HPA asks for, from the metric the edge exports', () => {
    const adapter = parse(read('k8s/kind/prometheus-adapter.yaml')) as Any;
    const rule = adapter.rules.custom[0];
    const hpa = one(kind, 'HorizontalPodAutoscaler', '-edge');
    const metric = (get(hpa, 'spec.metrics') as Any[]).find((m) => m.type === 'Pods').pods.metric.name;
    expect(rule.name.as).toBe(metric);
    expect(rule.seriesQuery).toMatch(/^herald_edge_connections\{/);
    expect(rule.resources.overrides.pod.resource).toBe('pod');
    expect(adapter.prometheus.url).toContain('kube-prometheus-stack-prometheus.monitoring');
  });

  it('the Secrets kind-install.sh creates are the ones the kind values reference', () => {
    const install = read('k8s/scripts/kind-install.sh');
    const values = parse(read('k8s/values/kind.yaml')) as Any;
    const referenced = [
      values.edge.jwt.existingSecret,
      values.publisher.jwt.existingSecret,
      values.nats.edge.existingSecret,
      values.nats.publisher.existingSecret,
      values.tests.tokenSecret,
    ];
    for (const name of referenced) expect(install, name).toMatch(new RegExp(`create secret generic ("?)${name.replace('herald-nats-edge', 'herald-nats-\\$who').replace('herald-nats-publisher', 'herald-nats-\\$who')}`));
    expect(install).toContain(`--issuer ${values.edge.jwt.issuer}`);
    // The monitoring stack picks up the chart's ServiceMonitors and dashboards.
    const kps = parse(read('k8s/kind/kube-prometheus-stack.yaml')) as Any;
    expect(kps.grafana.sidecar.dashboards.label).toBe('grafana_dashboard');
    for (const sm of kind.filter((o) => o.kind === 'ServiceMonitor')) expect(sm.metadata.labels?.release).toBe('kube-prometheus-stack');
  });
});

describe('docs/kubernetes.md NATS permissions', () => {
  it('are exactly the ones the chart renders for its dev NATS', () => {
    const docs = read('docs/kubernetes.md');
    const block = /```yaml\n(config:\n  cluster:[\s\S]*?)```/.exec(docs)?.[1];
    expect(block, 'the official-chart values block').toBeTruthy();
    const users = (parse(block as string) as Any).config.merge.authorization.users as Any[];
    const conf: string = get(one(kind, 'ConfigMap', '-nats'), 'data')['nats.conf'];
    const rendered = (who: string): { pub: string[]; sub: string[] } => {
      const m = new RegExp(`user: \\$${who}_USER.*?publish: \\{ allow: \\[(.*?)\\] \\}, subscribe: \\{ allow: \\[(.*?)\\]`).exec(conf);
      const list = (s: string | undefined): string[] => JSON.parse(`[${s ?? ''}]`) as string[];
      return { pub: list(m?.[1]), sub: list(m?.[2]) };
    };
    for (const [who, name] of [['EDGE', 'herald-edge'], ['PUBLISHER', 'herald-publisher']] as const) {
      const u = users.find((x) => x.user === name);
      const r = rendered(who);
      expect(r.pub.length).toBeGreaterThan(3);
      expect(u.permissions.publish.allow, name).toEqual(r.pub);
      expect(u.permissions.subscribe.allow, name).toEqual(r.sub);
    }
  });
});
