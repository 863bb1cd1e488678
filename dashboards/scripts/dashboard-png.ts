/**
 * `make dashboard-png`: start the reduced local cluster, drive a few minutes of traffic
 * (connections ramping up, notifications, some bad tokens, a rolling restart of the edges
 * with clients reconnecting), query the main panels' own PromQL from the dashboard JSON, and
 * draw them with matplotlib into docs/img/dashboard.png. Not part of `make test`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SseClient, TestClient, mintServiceToken, mintToken, waitFor } from '@herald/testkit';
import { down, roll, up } from '../../k8s/local/cluster.js';
import { dashboardFiles, loadDashboard, REPO_ROOT, substitute, type Dashboard } from '../test/lib/dashboards.js';
import { testClusterConfig } from '../test/lib/cluster.js';
import { Prometheus } from '../test/lib/prom.js';

const TRAFFIC_S = Number(process.env.TRAFFIC_S ?? 150);
const MAX_CLIENTS = 240;
const PYTHON = process.env.DASHBOARD_PYTHON ?? join(REPO_ROOT, 'tools/venv-dashboards/bin/python');
const OUT = join(REPO_ROOT, 'docs/img/dashboard.png');
const log = (m: string) => console.log(`[dashboard-png] ${m}`);

/** Panels drawn, by dashboard uid and title, in order. */
const MAIN = [
  ['herald-overview', 'Connections per pod'],
  ['herald-overview', 'Connect rate'],
  ['herald-overview', 'Connection failure rate'],
  ['herald-overview', 'Delivery latency'],
  ['herald-overview', 'Delivery rate'],
  ['herald-overview', 'NATS subscriptions per pod'],
  ['herald-overview', 'Disconnects by reason'],
  ['herald-publisher', 'Status mix'],
  ['herald-publisher', 'Publish latency'],
] as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const c = await testClusterConfig({
    edgeEnv: { HERALD_DRAIN_DELAY_S: '2', HERALD_DRAIN_WINDOW_S: '4', HERALD_CONNECT_RATE_PER_IP: '1000', HERALD_CONNECT_BURST_PER_IP: '1000' },
  });
  const prom = new Prometheus(`http://127.0.0.1:${c.prometheus.port}`);
  let stopping = false;
  const conns = new Set<{ close(): void }>();
  try {
    log('starting the reduced local cluster');
    await up(c, log);
    const ws = `ws://127.0.0.1:${c.haproxy.edgePort}/ws`;
    const sse = `http://127.0.0.1:${c.haproxy.edgePort}/sse`;
    const svc = await mintServiceToken({ tenants: ['acme', 'globex'] });
    const users = Array.from({ length: MAX_CLIENTS }, (_, i) => `u${i}`);
    const bad = await mintToken({ sub: 'x', tid: 'acme' }, { secret: 'a-wrong-secret-that-is-long-enough-xx' });
    const t0 = Date.now();
    const wsClients = new Map<string, TestClient>();

    // A client that reconnects after a SHUTDOWN close (drain), with jitter, like the SDK.
    const connect = async (u: string, i: number): Promise<void> => {
      if (stopping) return;
      const tid = i % 3 === 0 ? 'globex' : 'acme';
      const token = await mintToken({ sub: u, tid, roles: i % 10 === 0 ? ['admin'] : [] });
      if (i % 5 === 0) {
        const s = new SseClient(sse, { authorization: `Bearer ${token}` });
        conns.add(s);
        void s.done.then(() => {
          conns.delete(s);
          if (!stopping) setTimeout(() => void connect(u, i), 500 + Math.random() * 2_000);
        });
        return;
      }
      const cl = new TestClient(ws);
      conns.add(cl);
      wsClients.set(u, cl);
      cl.ws.on('close', (code) => {
        conns.delete(cl);
        if (wsClients.get(u) === cl) wsClients.delete(u);
        // SHUTDOWN (drain) and our own churn reconnect, as the SDK would.
        if (!stopping && (code === 4000 || code === 1000 || code === 1005)) setTimeout(() => void connect(u, i), 500 + Math.random() * 2_000);
      });
      await cl.auth(token).catch(() => undefined);
    };

    const publisher = (async () => {
      let n = 0;
      while (!stopping) {
        const i = Math.floor(Math.random() * MAX_CLIENTS);
        const tenant = i % 3 === 0 ? 'globex' : 'acme';
        const room = n % 20 === 0 ? 'tenant' : `user:u${i}`;
        const body = { tenant, room, event: 'order.updated', data: { n, note: n % 7 === 0 ? '<i>sanitised</i>' : 'plain' } };
        await fetch(`http://127.0.0.1:${c.haproxy.publisherPort}/v1/notifications`, {
          method: 'POST',
          headers: { authorization: `Bearer ${svc}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
          .then((r) => r.arrayBuffer())
          .catch(() => undefined);
        n++;
        await sleep(20);
      }
    })();

    log(`driving traffic for ${TRAFFIC_S}s`);
    let next = 0;
    let rolled = false;
    while ((Date.now() - t0) / 1000 < TRAFFIC_S) {
      const elapsed = (Date.now() - t0) / 1000;
      // Ramp up over the first 40 % of the run.
      const target = Math.min(MAX_CLIENTS, Math.floor((MAX_CLIENTS * elapsed) / (TRAFFIC_S * 0.4)));
      while (next < target) void connect(users[next]!, next++);
      // Churn: a few clients leave and come back every second (page reloads, network changes).
      for (const [, cl] of [...wsClients].sort(() => Math.random() - 0.5).slice(0, 3)) cl.ws.close(1000);
      // A trickle of bad tokens; a burst in the middle.
      const burst = elapsed > TRAFFIC_S * 0.3 && elapsed < TRAFFIC_S * 0.36;
      for (let k = 0; k < (burst ? 4 : Math.random() < 0.05 ? 1 : 0); k++) {
        const b = new TestClient(ws);
        b.open().then(() => b.send({ type: 'auth', token: bad }), () => undefined);
      }
      if (!rolled && elapsed > TRAFFIC_S * 0.55) {
        rolled = true;
        log('rolling the edges (drain, restart, clients reconnect)');
        void roll(c, log);
      }
      await sleep(1_000);
    }
    stopping = true;
    await publisher;
    const end = Date.now() / 1000;
    await waitFor(() => Date.now() / 1000 > end + 2, { timeoutMs: 5_000 });

    log('querying the panels');
    const dashboards = new Map<string, Dashboard>(dashboardFiles().map((f) => [loadDashboard(f).uid, loadDashboard(f)]));
    const panels = [];
    for (const [uid, title] of MAIN) {
      const d = dashboards.get(uid)!;
      const panel = d.panels.find((p) => p.title === title);
      if (!panel) throw new Error(`no panel ${title} in ${uid}`);
      const metric = d.templating.list.find((v) => v.name === 'namespace')!.definition!.match(/label_values\((\w+)/)![1]!;
      const namespace = (await prom.labelValues('namespace', metric))[0]!;
      const job = (await prom.labelValues('job', `${metric}{namespace="${namespace}"}`))[0]!;
      const vars = { namespace, job, pod: '.*', __rate_interval: '10s' };
      const series = [];
      for (const t of panel.targets ?? []) {
        const result = await prom.queryRange(substitute(t.expr!, vars), t0 / 1000, end, 2);
        for (const s of result) {
          const legend = (t.legendFormat ?? '').replace(/\{\{\s*(\w+)\s*\}\}/g, (_m, k: string) => s.metric[k] ?? '');
          series.push({ legend: legend || t.refId, points: (s.values ?? []).map(([ts, v]) => [ts, Number(v)]).filter(([, v]) => Number.isFinite(v)) });
        }
      }
      const steps = panel.fieldConfig?.defaults?.thresholds?.steps ?? [];
      const threshold = steps.find((s) => s.value !== null)?.value;
      panels.push({
        title: `${uid === 'herald-publisher' ? 'Publisher: ' : ''}${title}`,
        unit: panel.fieldConfig?.defaults?.unit,
        threshold,
        thresholdLabel: threshold === 0.025 ? 'SLO p99 25 ms' : threshold === 0.01 ? 'SLO 1 %' : 'threshold',
        stack: /per pod|Disconnects|Status/.test(title),
        series,
      });
    }
    const dir = join(c.stateDir, 'png');
    mkdirSync(dir, { recursive: true });
    const data = join(dir, 'panels.json');
    writeFileSync(
      data,
      JSON.stringify({
        title: 'Herald dashboards — main panels, local cluster (2 edges, 1 publisher, 1 NATS) scraped by Prometheus',
        subtitle: `${TRAFFIC_S}s of traffic: ramp to ${MAX_CLIENTS} clients (WS + SSE) with churn, ~40 notifications/s, bad tokens (a burst at 30 %), a rolling restart at 55 %`,
        panels,
      }),
    );
    mkdirSync(join(REPO_ROOT, 'docs/img'), { recursive: true });
    const r = spawnSync(PYTHON, [join(REPO_ROOT, 'dashboards/scripts/render_png.py'), data, OUT], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`render_png.py failed (${r.status ?? r.error?.message})`);
    log(`wrote ${OUT}`);
  } finally {
    stopping = true;
    for (const cl of conns) cl.close();
    await down(c, () => undefined);
    rmSync(c.stateDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
