// What must hold in the rendered chart, whatever the values: probes, drain arithmetic, PDBs,
// ingress stickiness and timeouts, HPA, securityContext, NetworkPolicy selectors, checksums.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Any, CHART_DIR, type K8sObject, VALUE_SETS, byKind, get, one, render } from './helm.js';

const sets: Record<string, K8sObject[]> = {};
beforeAll(async () => {
  for (const [name, files] of Object.entries(VALUE_SETS)) sets[name] = await render({ files });
});
const SET_NAMES = Object.keys(VALUE_SETS);

/** Pod templates (Deployments, StatefulSets) and bare Pods, with their labels and spec. */
function pods(objs: K8sObject[]): { owner: string; labels: Record<string, string>; spec: Any }[] {
  return objs.flatMap((o) => {
    if (o.kind === 'Deployment' || o.kind === 'StatefulSet') {
      return [{ owner: `${o.kind}/${o.metadata.name}`, labels: get(o, 'spec.template.metadata.labels'), spec: get(o, 'spec.template.spec') }];
    }
    if (o.kind === 'Pod') return [{ owner: `Pod/${o.metadata.name}`, labels: o.metadata.labels ?? {}, spec: get(o, 'spec') }];
    return [];
  });
}

const matches = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

const container = (d: K8sObject): Any => get(d, 'spec.template.spec.containers.0');
const configOf = (objs: K8sObject[], component: string): Record<string, string> =>
  get(one(objs, 'ConfigMap', `-${component}`), 'data');

describe.each(SET_NAMES)('%s', (name) => {
  const objs = (): K8sObject[] => sets[name] as K8sObject[];

  it('probes hit /livez and /readyz on the internal port 9090', () => {
    for (const component of ['edge', 'publisher']) {
      const d = one(objs(), 'Deployment', `-${component}`);
      const c = container(d);
      const internal = (c.ports as Any[]).find((p) => p.name === 'internal');
      expect(internal.containerPort).toBe(9090);
      expect(c.livenessProbe.httpGet).toEqual({ path: '/livez', port: 'internal' });
      expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'internal' });
      expect(configOf(objs(), component).HERALD_INTERNAL_PORT).toBe('9090');
      // The public port is another one: probes and metrics never share it.
      const http = (c.ports as Any[]).find((p) => p.name === 'http');
      expect(http.containerPort).not.toBe(9090);
    }
  });

  it('edge grace period exceeds preStop + drain delay + window + margin', () => {
    const d = one(objs(), 'Deployment', '-edge');
    const cfg = configOf(objs(), 'edge');
    const delay = Number(cfg.HERALD_DRAIN_DELAY_S);
    const window = Number(cfg.HERALD_DRAIN_WINDOW_S);
    const shutdown = Number(cfg.HERALD_SHUTDOWN_TIMEOUT_S);
    const preStop = Number(container(d).lifecycle.preStop.exec.command[1]);
    const grace = get(d, 'spec.template.spec.terminationGracePeriodSeconds');
    expect(shutdown).toBeGreaterThan(delay + window);
    expect(grace).toBeGreaterThan(preStop + shutdown);
    expect(grace).toBeGreaterThan(delay + window + 5);
  });

  it('has a PDB exactly for components that run more than one pod', () => {
    const pdbOn = name !== 'everything-off';
    for (const component of ['edge', 'publisher']) {
      const d = one(objs(), 'Deployment', `-${component}`);
      const hpa = byKind(objs(), 'HorizontalPodAutoscaler').find((h) => h.metadata.name.endsWith(`-${component}`));
      const min: number = hpa ? get(hpa, 'spec.minReplicas') : get(d, 'spec.replicas');
      const pdb = byKind(objs(), 'PodDisruptionBudget').find((p) => p.metadata.name.endsWith(`-${component}`));
      if (pdbOn && min > 1) {
        expect(pdb, `${component} PDB`).toBeDefined();
        expect(matches(get(pdb, 'spec.selector.matchLabels'), get(d, 'spec.template.metadata.labels'))).toBe(true);
        expect(get(pdb, 'spec.maxUnavailable')).toBe(1);
      } else {
        expect(pdb, `${component} PDB with ${min} pod(s)`).toBeUndefined();
      }
    }
  });

  it('every container is non-root, read-only, unprivileged, capability-free, RuntimeDefault seccomp', () => {
    const all = pods(objs());
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const p of all) {
      for (const c of p.spec.containers as Any[]) {
        const sc = c.securityContext ?? {};
        const podSc = p.spec.securityContext ?? {};
        const at = `${p.owner}/${c.name}`;
        expect(sc.runAsNonRoot ?? podSc.runAsNonRoot, at).toBe(true);
        expect(sc.readOnlyRootFilesystem, at).toBe(true);
        expect(sc.allowPrivilegeEscalation, at).toBe(false);
        expect(sc.capabilities?.drop, at).toEqual(['ALL']);
        expect(sc.privileged ?? false, at).toBe(false);
        expect((sc.seccompProfile ?? podSc.seccompProfile)?.type, at).toBe('RuntimeDefault');
        expect(c.resources?.requests && c.resources?.limits, `${at} resources`).toBeTruthy();
        // A read-only root needs a writable /tmp.
        if (!p.owner.includes('-nats')) {
          const tmp = (c.volumeMounts as Any[]).find((m) => m.mountPath === '/tmp');
          expect(tmp, `${at} /tmp`).toBeDefined();
          const vol = (p.spec.volumes as Any[]).find((v) => v.name === tmp.name);
          expect(vol.emptyDir, `${at} /tmp emptyDir`).toBeDefined();
        }
      }
      expect(p.spec.automountServiceAccountToken, p.owner).toBe(false);
    }
  });

  it('pods roll when their configuration changes (checksum/config)', () => {
    for (const d of [...byKind(objs(), 'Deployment'), ...byKind(objs(), 'StatefulSet')]) {
      expect(get(d, 'spec.template.metadata.annotations')?.['checksum/config'], d.metadata.name).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('Services and ServiceMonitors select the pods and ports that exist', () => {
    const allPods = pods(objs());
    for (const svc of byKind(objs(), 'Service')) {
      const sel = get(svc, 'spec.selector');
      const target = allPods.filter((p) => matches(sel, p.labels) && !p.owner.startsWith('Pod/'));
      expect(target.length, `${svc.metadata.name} selects a workload`).toBe(1);
      const portNames = (target[0]?.spec.containers as Any[]).flatMap((c) => (c.ports as Any[]).map((p) => p.name));
      for (const port of get(svc, 'spec.ports') as Any[]) expect(portNames).toContain(port.targetPort);
    }
    for (const sm of byKind(objs(), 'ServiceMonitor')) {
      const svcs = byKind(objs(), 'Service').filter((s) => matches(get(sm, 'spec.selector.matchLabels'), s.metadata.labels ?? {}));
      expect(svcs.length, sm.metadata.name).toBe(1);
      const ports = (get(svcs[0], 'spec.ports') as Any[]).map((p) => p.name);
      for (const ep of get(sm, 'spec.endpoints') as Any[]) {
        expect(ports).toContain(ep.port);
        expect(ep.path).toBe('/metrics');
      }
    }
  });

  it('NetworkPolicy selectors match the labels of rendered pods', () => {
    const allPods = pods(objs());
    const nps = byKind(objs(), 'NetworkPolicy');
    if (name === 'everything-off') expect(nps).toEqual([]);
    else expect(nps.length).toBeGreaterThanOrEqual(2);
    for (const np of nps) {
      const sel = get(np, 'spec.podSelector.matchLabels');
      expect(sel, np.metadata.name).toBeTruthy();
      const selected = allPods.filter((p) => matches(sel, p.labels) && !p.owner.startsWith('Pod/'));
      expect(selected.length, `${np.metadata.name} selects one workload`).toBe(1);
      // Named ports in the rules must exist on the selected pods.
      const portNames = (selected[0]?.spec.containers as Any[]).flatMap((c) => (c.ports as Any[]).map((p) => p.name));
      for (const rule of (get(np, 'spec.ingress') ?? []) as Any[]) {
        for (const port of rule.ports ?? []) if (typeof port.port === 'string') expect(portNames).toContain(port.port);
        for (const peer of rule.from ?? []) {
          // A bare podSelector with labels names pods of this release: they must exist
          // (the test pod only when tests are enabled).
          if (peer.podSelector?.matchLabels && !peer.namespaceSelector) {
            const peers = allPods.filter((p) => matches(peer.podSelector.matchLabels, p.labels));
            const isTestPeer = peer.podSelector.matchLabels['app.kubernetes.io/component'] === 'test';
            if (!isTestPeer || byKind(objs(), 'Pod').length > 0) expect(peers.length, `${np.metadata.name} peer`).toBeGreaterThan(0);
          }
        }
      }
      for (const rule of (get(np, 'spec.egress') ?? []) as Any[]) {
        for (const peer of rule.to ?? []) {
          if (peer.podSelector?.matchLabels && !peer.namespaceSelector) {
            expect(allPods.filter((p) => matches(peer.podSelector.matchLabels, p.labels)).length).toBeGreaterThan(0);
          }
        }
      }
    }
    // Edge and publisher must be able to reach NATS and DNS.
    for (const np of nps.filter((n) => /-(edge|publisher)$/.test(n.metadata.name))) {
      const egress = get(np, 'spec.egress') as Any[];
      const ports = egress.flatMap((r) => (r.ports ?? []).map((p: Any) => p.port));
      expect(ports).toContain(53);
      expect(ports).toContain(4222);
    }
  });

  it('image tags default to the chart appVersion', () => {
    const chart = readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8');
    const appVersion = /appVersion:\s*"?([^"\n]+)"?/.exec(chart)?.[1];
    for (const component of ['edge', 'publisher']) {
      const image: string = container(one(objs(), 'Deployment', `-${component}`)).image;
      expect(image).toMatch(/:[^:@]+$/);
      if (name === 'defaults') expect(image.endsWith(`:${appVersion}`)).toBe(true);
    }
  });
});

describe('ingress', () => {
  const AFFINITY = 'nginx.ingress.kubernetes.io/affinity';
  const ann = (o: K8sObject): Record<string, string> => o.metadata.annotations ?? {};
  const stickyKeys = (o: K8sObject): string[] =>
    Object.keys(ann(o)).filter((k) => k === AFFINITY || k.includes('session-cookie') || k.includes('affinity-mode'));

  it('routes /ws, /sse and /v1/tickets to the edge http port; publisher ingress off by default', () => {
    const objs = sets.defaults as K8sObject[];
    const ings = byKind(objs, 'Ingress');
    expect(ings.map((i) => i.metadata.name).sort()).toEqual(['hr-herald-edge-http', 'hr-herald-edge-ws']);
    const paths = ings.flatMap((i) => (get(i, 'spec.rules.0.http.paths') as Any[]).map((p) => [p.path, p.backend.service.name, p.backend.service.port.name]));
    expect(paths.sort()).toEqual([
      ['/sse', 'hr-herald-edge', 'http'],
      ['/v1/tickets', 'hr-herald-edge', 'http'],
      ['/ws', 'hr-herald-edge', 'http'],
    ]);
    for (const i of ings) expect(get(i, 'spec.ingressClassName')).toBe('nginx');
  });

  it('cookie affinity on /sse and /v1/tickets when enabled, WebSocket upgrades balanced', () => {
    const objs = sets.defaults as K8sObject[];
    const http = one(objs, 'Ingress', '-edge-http');
    const ws = one(objs, 'Ingress', '-edge-ws');
    expect(ann(http)[AFFINITY]).toBe('cookie');
    expect(ann(http)['nginx.ingress.kubernetes.io/session-cookie-name']).toBe('herald_edge');
    expect(ann(http)['nginx.ingress.kubernetes.io/session-cookie-change-on-failure']).toBe('true');
    expect(ann(http)['nginx.ingress.kubernetes.io/session-cookie-max-age']).toBe('3600');
    expect(stickyKeys(ws)).toEqual([]);
  });

  it('sticky.websocket pins /ws too; sticky disabled removes every affinity annotation', async () => {
    const base = VALUE_SETS.defaults as string[];
    const pinned = await render({ files: base, set: ['ingress.sticky.websocket=true'] });
    expect(ann(one(pinned, 'Ingress', '-edge-ws'))[AFFINITY]).toBe('cookie');
    const off = await render({ files: base, set: ['ingress.sticky.enabled=false', 'ingress.sticky.websocket=true'] });
    for (const i of byKind(off, 'Ingress')) expect(stickyKeys(i), i.metadata.name).toEqual([]);
  });

  it('long read/send timeouts for WebSocket and SSE, above the heartbeats; SSE unbuffered', () => {
    for (const name of SET_NAMES) {
      const objs = sets[name] as K8sObject[];
      const cfg = configOf(objs, 'edge');
      const heartbeat = Math.max(Number(cfg.HERALD_SSE_HEARTBEAT_S), Number(cfg.HERALD_IDLE_TIMEOUT_S));
      for (const i of byKind(objs, 'Ingress').filter((x) => x.metadata.name.includes('-edge-'))) {
        for (const k of ['proxy-read-timeout', 'proxy-send-timeout']) {
          expect(Number(ann(i)[`nginx.ingress.kubernetes.io/${k}`]), `${name} ${i.metadata.name} ${k}`).toBeGreaterThan(heartbeat * 2);
        }
      }
      const http = byKind(objs, 'Ingress').find((x) => x.metadata.name.endsWith('-edge-http'));
      if (http) expect(ann(http)['nginx.ingress.kubernetes.io/proxy-buffering']).toBe('off');
    }
  });

  it('TLS in production; the publisher ingress only when enabled', async () => {
    const prod = sets.production as K8sObject[];
    for (const i of byKind(prod, 'Ingress')) {
      expect(get(i, 'spec.tls.0.secretName')).toBe('notify-example-com-tls');
      expect(get(i, 'spec.tls.0.hosts')).toEqual(['notify.example.com']);
      expect(ann(i)['nginx.ingress.kubernetes.io/session-cookie-secure'] ?? 'true').toBe('true');
    }
    expect(byKind(prod, 'Ingress').some((i) => i.metadata.name.endsWith('-publisher'))).toBe(false);
    const withPub = await render({ files: VALUE_SETS.defaults as string[], set: ['publisherIngress.enabled=true'] });
    const pub = one(withPub, 'Ingress', '-publisher');
    expect(get(pub, 'spec.rules.0.http.paths.0.backend.service.name')).toBe('hr-herald-publisher');
    // ...and the publisher NetworkPolicy then admits the ingress controller.
    const np = one(withPub, 'NetworkPolicy', '-publisher');
    expect(JSON.stringify(get(np, 'spec.ingress.0.from'))).toContain('ingress-nginx');
  });
});

describe('autoscaling', () => {
  it('edge HPA on CPU and on herald_edge_connections per pod, with slow, bounded scale-down', () => {
    const objs = sets.defaults as K8sObject[];
    const hpa = one(objs, 'HorizontalPodAutoscaler', '-edge');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(get(hpa, 'spec.scaleTargetRef')).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'hr-herald-edge' });
    const metrics = get(hpa, 'spec.metrics') as Any[];
    expect(metrics.find((m) => m.type === 'Resource')?.resource).toEqual({ name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } });
    const pods = metrics.find((m) => m.type === 'Pods')?.pods;
    expect(pods.metric.name).toBe('herald_edge_connections');
    expect(pods.target.type).toBe('AverageValue');
    const down = get(hpa, 'spec.behavior.scaleDown');
    expect(down.stabilizationWindowSeconds).toBeGreaterThanOrEqual(300);
    expect(down.selectPolicy).toBe('Min');
    expect(down.policies).toEqual([{ type: 'Pods', value: 1, periodSeconds: 120 }]);
    // A period shorter than one pod's drain would overlap drains.
    const grace = get(one(objs, 'Deployment', '-edge'), 'spec.template.spec.terminationGracePeriodSeconds');
    expect(down.policies[0].periodSeconds).toBeGreaterThan(grace);
    // The HPA owns the replica count.
    expect(get(one(objs, 'Deployment', '-edge'), 'spec.replicas')).toBeUndefined();
    const pub = one(objs, 'HorizontalPodAutoscaler', '-publisher');
    expect((get(pub, 'spec.metrics') as Any[]).map((m) => m.resource?.name)).toEqual(['cpu']);
  });

  it('autoscaling off: no HPA, the Deployments carry replicas', () => {
    const objs = sets['autoscaling-off'] as K8sObject[];
    expect(byKind(objs, 'HorizontalPodAutoscaler')).toEqual([]);
    expect(get(one(objs, 'Deployment', '-edge'), 'spec.replicas')).toBe(4);
    expect(get(one(objs, 'Deployment', '-publisher'), 'spec.replicas')).toBe(1);
  });
});

describe('drain arithmetic follows the values', () => {
  it('a longer drain window lengthens the grace period and the edge watchdog', async () => {
    const objs = await render({
      files: VALUE_SETS.defaults as string[],
      set: ['edge.drain.windowSeconds=120', 'edge.drain.delaySeconds=10', 'edge.drain.marginSeconds=15', 'edge.drain.preStopSleepSeconds=4'],
    });
    const cfg = configOf(objs, 'edge');
    expect(cfg.HERALD_DRAIN_WINDOW_S).toBe('120');
    expect(cfg.HERALD_SHUTDOWN_TIMEOUT_S).toBe('145');
    const d = one(objs, 'Deployment', '-edge');
    expect(get(d, 'spec.template.spec.terminationGracePeriodSeconds')).toBe(4 + 145 + 5);
    expect(container(d).lifecycle.preStop.exec.command).toEqual(['sleep', '4']);
    // The HPA's scale-down period follows, so one removed pod finishes draining before the next.
    const hpa = one(objs, 'HorizontalPodAutoscaler', '-edge');
    expect(get(hpa, 'spec.behavior.scaleDown.policies.0.periodSeconds')).toBe(4 + 145 + 5 + 10);
  });

  it('checksum/config changes when the configuration changes', async () => {
    const base = VALUE_SETS.defaults as string[];
    const a = await render({ files: base });
    const b = await render({ files: base, set: ['edge.config.msgRate=11'] });
    const sum = (objs: K8sObject[], c: string): string =>
      get(one(objs, 'Deployment', `-${c}`), 'spec.template.metadata.annotations')['checksum/config'];
    expect(sum(b, 'edge')).not.toBe(sum(a, 'edge'));
    expect(sum(b, 'publisher')).toBe(sum(a, 'publisher'));
  });
});

describe('secrets and files reach the services the right way', () => {
  // Which names the services accept is proven by config.test.ts (their own loadConfig).
  it.each(SET_NAMES)('%s: NATS credentials from Secrets, never in a ConfigMap', (name) => {
    const objs = sets[name] as K8sObject[];
    for (const c of ['edge', 'publisher']) {
      const env = (container(one(objs, 'Deployment', `-${c}`)).env ?? []) as Any[];
      for (const e of env.filter((x) => /PASSWORD|TOKEN|SECRET/.test(x.name))) expect(e.valueFrom?.secretKeyRef, e.name).toBeDefined();
      const cfg = configOf(objs, c);
      for (const k of Object.keys(cfg)) expect(k).not.toMatch(/PASSWORD|TOKEN|SECRET$/);
    }
  });

  it('production: creds files and the NATS CA are mounted where the env points', () => {
    const objs = sets.production as K8sObject[];
    for (const c of ['edge', 'publisher']) {
      const d = one(objs, 'Deployment', `-${c}`);
      const env = Object.fromEntries(((container(d).env ?? []) as Any[]).map((e) => [e.name, e.value]));
      const mounts = container(d).volumeMounts as Any[];
      const volumes = get(d, 'spec.template.spec.volumes') as Any[];
      for (const file of [env.HERALD_NATS_CREDS_FILE, env.HERALD_NATS_TLS_CA_FILE]) {
        expect(file).toBeTruthy();
        const m = mounts.find((x) => file.startsWith(`${x.mountPath}/`));
        expect(m, file).toBeDefined();
        const v = volumes.find((x) => x.name === m.name);
        expect(v.secret?.secretName).toBeTruthy();
      }
      expect(configOf(objs, c).HERALD_NATS_URL).toMatch(/^tls:\/\//);
      expect(configOf(objs, c).HERALD_JWT_JWKS_URL).toMatch(/^https:\/\//);
    }
    expect(configOf(objs, 'edge').HERALD_ALLOWED_ORIGINS).toBe('https://app.example.com,https://admin.example.com');
  });

  it('a PEM key given inline lands in a Secret mounted at HERALD_JWT_PUBLIC_KEY_FILE', () => {
    const objs = sets['autoscaling-off'] as K8sObject[];
    const cfg = configOf(objs, 'edge');
    expect(cfg.HERALD_JWT_PUBLIC_KEY_FILE).toBe('/etc/herald/jwt/public.pem');
    const secret = one(objs, 'Secret', '-edge-jwt');
    expect(Buffer.from(get(secret, 'data')['public.pem'], 'base64').toString()).toContain('BEGIN PUBLIC KEY');
    const d = one(objs, 'Deployment', '-edge');
    const vol = (get(d, 'spec.template.spec.volumes') as Any[]).find((v) => v.name === 'jwt-key');
    expect(vol.secret.secretName).toBe(secret.metadata.name);
    // The publisher uses an existing Secret and its key name.
    const pvol = (get(one(objs, 'Deployment', '-publisher'), 'spec.template.spec.volumes') as Any[]).find((v) => v.name === 'jwt-key');
    expect(pvol.secret).toEqual({ secretName: 'herald-jwt', items: [{ key: 'service.pem', path: 'public.pem' }] });
  });
});

describe('helm test pod', () => {
  it('reads both tokens from a Secret and runs the smoke script shipped in a ConfigMap', () => {
    const objs = sets.kind as K8sObject[];
    const pod = one(objs, 'Pod', '-test');
    expect(pod.metadata.annotations?.['helm.sh/hook']).toBe('test');
    const c = get(pod, 'spec.containers.0');
    expect(c.command).toEqual(['node', '--experimental-websocket', '/scripts/smoke.mjs']);
    expect(c.image).toBe('herald/edge:dev');
    const env = Object.fromEntries((c.env as Any[]).map((e) => [e.name, e]));
    expect(env.CLIENT_TOKEN.valueFrom.secretKeyRef).toEqual({ name: 'herald-test-tokens', key: 'client-token' });
    expect(env.SERVICE_TOKEN.valueFrom.secretKeyRef).toEqual({ name: 'herald-test-tokens', key: 'service-token' });
    expect(env.EDGE_WS_URL.value).toBe('ws://hr-herald-edge:8080/ws');
    expect(env.PUBLISHER_URL.value).toBe('http://hr-herald-publisher:8081');
    const cm = one(objs, 'ConfigMap', '-test');
    expect(get(cm, 'data')['smoke.mjs']).toBe(readFileSync(join(CHART_DIR, 'files/smoke.mjs'), 'utf8').replace(/\n$/, ''));
    expect(get(pod, 'spec.restartPolicy')).toBe('Never');
  });
});

describe('dev NATS (nats.deploy)', () => {
  it('is a 3-node JetStream StatefulSet reachable at the URL edge and publisher use', () => {
    const objs = sets['dev-nats'] as K8sObject[];
    const sts = one(objs, 'StatefulSet', '-nats');
    expect(get(sts, 'spec.replicas')).toBe(3);
    expect(get(sts, 'spec.volumeClaimTemplates.0.spec.resources.requests.storage')).toBe('2Gi');
    expect(configOf(objs, 'edge').HERALD_NATS_URL).toBe('nats://hr-herald-nats:4222');
    const conf: string = get(one(objs, 'ConfigMap', '-nats'), 'data')['nats.conf'];
    expect(conf).toMatch(/jetstream \{/);
    expect(conf.match(/nats:\/\/hr-herald-nats-\d\.hr-herald-nats-headless:6222/g)).toHaveLength(3);
    expect(byKind(sets.defaults as K8sObject[], 'StatefulSet')).toEqual([]);
  });

  it('fails to render without least-privilege credentials Secrets', async () => {
    const { template } = await import('./helm.js');
    const res = await template({ files: VALUE_SETS['dev-nats'] as string[], set: ['nats.edge.existingSecret='] });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/existingSecret/);
  });
});
