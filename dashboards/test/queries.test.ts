/**
 * Proof that the dashboards and alerts work on real data: a reduced local cluster (1 NATS,
 * 2 edges, 1 publisher, HAProxy, Prometheus scraping every second), real traffic through
 * HAProxy, then every panel's every PromQL expression evaluated against Prometheus's HTTP API
 * with the template variables substituted as Grafana would, and two alerts seen firing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { SseClient, TestClient, mintServiceToken, mintToken, waitFor } from '@herald/testkit';
import { down, status, up } from '../../k8s/local/cluster.js';
import { isAlive, readPid, stopProcess } from '../../k8s/local/procs.js';
import type { ClusterConfig } from '../../k8s/local/config.js';
import { dashboardFiles, loadDashboard, metricNames, panelQueries, substitute } from './lib/dashboards.js';
import { testClusterConfig } from './lib/cluster.js';
import { Prometheus, finiteValues } from './lib/prom.js';

/** Metrics the traffic below cannot produce yet, and why. Everything else must have series. */
const NOT_DRIVEN: Record<string, string> = {
  herald_edge_resumes_total: 'resume lands with a later issue; nothing increments it yet',
};
// Grafana's $__rate_interval for a 1 s scrape is 4 s; one more scrape of margin.
const RATE_INTERVAL = '5s';

const queries = dashboardFiles().flatMap((f) => {
  const d = loadDashboard(f);
  const metric = d.templating.list.find((v) => v.name === 'namespace')?.definition?.match(/label_values\((\w+)/)?.[1] ?? '';
  return panelQueries(d).map((q) => ({ ...q, varMetric: metric, label: `${q.dashboard} / ${q.panel} / ${q.refId}` }));
});

let c: ClusterConfig;
let prom: Prometheus;
let trafficStart = 0;
const sayings: string[] = [];
const clients: Array<{ close(): void }> = [];

async function publish(token: string, body: unknown): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${c.haproxy.publisherPort}/v1/notifications`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

async function edgeMetric(i: number, re: RegExp): Promise<boolean> {
  const text = await (await fetch(`http://127.0.0.1:${c.edge.internalPort + i}/metrics`)).text();
  return re.test(text);
}

async function driveTraffic(): Promise<void> {
  const wsUrl = `ws://127.0.0.1:${c.haproxy.edgePort}/ws`;
  const sseUrl = `http://127.0.0.1:${c.haproxy.edgePort}/sse`;
  trafficStart = Date.now() / 1000;

  // Connections over both transports, spread by HAProxy over both edges.
  const users = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'];
  const ws = users.map((u) => new TestClient(wsUrl));
  clients.push(...ws);
  await Promise.all(ws.map(async (cl, i) => cl.auth(await mintToken({ sub: users[i]!, tid: 't1', roles: i === 0 ? ['admin'] : [] }))));
  const sse = await Promise.all(['s1', 's2'].map(async (u) => new SseClient(sseUrl, { authorization: `Bearer ${await mintToken({ sub: u, tid: 't1' })}` })));
  clients.push(...sse);
  await waitFor(() => sse.every((s) => s.status === 200), { what: 'SSE streams open' });

  // Failures: bad signatures on WS and SSE (auth_failed), a security event each.
  const bad = await mintToken({ sub: 'mallory', tid: 't1' }, { secret: 'not-the-secret-but-long-enough-32-bytes!!' });
  for (let i = 0; i < 3; i++) {
    const b = new TestClient(wsUrl);
    clients.push(b);
    await b.open();
    b.send({ type: 'auth', token: bad });
    expect(await b.closed()).toBe(4500);
  }
  const badSse = new SseClient(sseUrl, { authorization: `Bearer ${bad}` });
  await badSse.done;
  expect(badSse.status).toBe(401);

  // Publishes: user rooms (HTML in data gets sanitised), the tenant room, SSE users.
  const svc = await mintServiceToken({ tenants: ['t1', 'limited'] });
  for (let n = 0; n < 4; n++) {
    for (const u of [...users, 's1', 's2']) {
      expect(await publish(svc, { tenant: 't1', room: `user:${u}`, event: 'order.shipped', data: { note: `<b>parcel</b> ${n}` } })).toBe(202);
    }
  }
  expect(await publish(svc, { tenant: 't1', room: 'tenant', event: 'tenant.notice', data: { text: 'maintenance' } })).toBe(202);
  await waitFor(() => ws[0]!.notifications().length >= 5 && sse[1]!.events.length >= 4, { what: 'notifications delivered' });

  // Publisher refusals: bad event name (validation), bad service token (auth), a tenant over its rate limit.
  expect(await publish(svc, { tenant: 't1', room: 'user:u1', event: 'Bad Event!', data: {} })).toBe(422);
  expect(await publish('not-a-token', { tenant: 't1', room: 'user:u1', event: 'x', data: {} })).toBe(401);
  const limited = await Promise.all(Array.from({ length: 5 }, () => publish(svc, { tenant: 'limited', room: 'user:u1', event: 'x', data: {} })));
  expect(limited).toContain(429);

  // A dropped message: u6 leaves, and a notification reaches its pod's still-held subscription.
  ws[5]!.close();
  expect(await publish(svc, { tenant: 't1', room: 'user:u6', event: 'order.shipped', data: {} })).toBe(202);

  // A slow consumer, straight to edge-0 so only the kernel buffers between: it stops reading
  // while large notifications pile up past HERALD_MAX_BACKPRESSURE, and the edge closes it.
  const slow = new TestClient(`ws://127.0.0.1:${c.edge.port}/ws`);
  clients.push(slow);
  await slow.auth(await mintToken({ sub: 'slow', tid: 't1' }));
  slow.ws.pause();
  const big = 'x'.repeat(60_000);
  await waitFor(
    async () => {
      await Promise.all(Array.from({ length: 10 }, () => publish(svc, { tenant: 't1', room: 'user:slow', event: 'bulk.data', data: { big } })));
      return edgeMetric(0, /herald_edge_messages_dropped_total\{reason="slow_consumer"\} [1-9]/);
    },
    { timeoutMs: 60_000, intervalMs: 0, what: 'the edge to drop a slow consumer' },
  );
  slow.close();
  await waitFor(() => edgeMetric(0, /herald_edge_connections_closed_total\{transport="ws",reason="slow_consumer"\} [1-9]/), { what: 'slow-consumer close counted' });

  // Ordinary client disconnects.
  ws[4]!.close();
  sse[0]!.close();
}

beforeAll(async () => {
  c = await testClusterConfig({
    edgeEnv: { HERALD_SLOW_CONSUMER_CHECK_MS: '50', HERALD_TENANT_METRICS: 'true' },
    publisherEnv: { HERALD_TENANT_RATE_OVERRIDES: 'limited=0.01:2', HERALD_DATA_MAX_BYTES: '100000', HERALD_BODY_LIMIT: '262144' },
  });
  await up(c, (l) => sayings.push(l));
  prom = new Prometheus(`http://127.0.0.1:${c.prometheus.port}`);
  await waitFor(async () => {
    const t = await prom.targets();
    return t.length === 5 && t.every((x) => x.health === 'up');
  }, { timeoutMs: 30_000, what: 'every Prometheus target up' });
  await driveTraffic();
  // Wait until Prometheus has scraped the traffic's end state (and a few samples after it).
  await waitFor(async () => (await prom.query('sum(herald_edge_connections_closed_total{reason="slow_consumer"})')).length > 0, {
    timeoutMs: 20_000,
    what: 'Prometheus to scrape the slow-consumer close',
  });
  const until = Date.now() + 3_000;
  await waitFor(() => Date.now() > until, { timeoutMs: 5_000, what: 'three more scrapes' });
}, 170_000);

afterAll(async () => {
  for (const cl of clients) cl.close();
  if (c) {
    await down(c, () => undefined);
    // KEEP_CLUSTER_STATE=1 keeps the logs for a post-mortem.
    if (process.env.KEEP_CLUSTER_STATE) console.log(`cluster state kept in ${c.stateDir}`);
    else rmSync(c.stateDir, { recursive: true, force: true });
  }
}, 60_000);

describe('the local cluster', () => {
  it('runs every process, ready, and a second up reports what already runs', async () => {
    const st = await status(c);
    expect(st.map((s) => s.name)).toEqual(['nats-0', 'publisher-0', 'edge-0', 'edge-1', 'haproxy', 'prometheus']);
    expect(st.every((s) => s.running && s.ready), JSON.stringify(st)).toBe(true);
    const again: string[] = [];
    await up(c, (l) => again.push(l));
    expect(again.join('\n')).toMatch(/already runs/);
  });
});

describe('every dashboard query returns data from the live cluster', () => {
  const vars = new Map<string, Record<string, string>>();
  async function varsFor(metric: string): Promise<Record<string, string>> {
    const known = vars.get(metric);
    if (known) return known;
    // As Grafana resolves the variables: namespace, then job within it; pod = All.
    const namespace = (await prom.labelValues('namespace', metric))[0];
    expect(namespace, `namespace for ${metric}`).toBe('herald-test');
    const job = (await prom.labelValues('job', `${metric}{namespace="${namespace}"}`))[0]!;
    const v = { namespace: namespace!, job, pod: '.*', __rate_interval: RATE_INTERVAL };
    vars.set(metric, v);
    return v;
  }

  it('has the metric of every panel scraped (no panel is kept alive by `or vector(0)` alone)', async () => {
    const names = new Set(await prom.metricNames());
    const wanted = new Set(queries.flatMap((q) => metricNames(q.expr)));
    const missing = [...wanted].filter((n) => !names.has(n) && !(n in NOT_DRIVEN));
    expect(missing).toEqual([]);
  });

  it.each(queries.map((q) => [q.label, q] as const))('%s', async (_label, q) => {
    const v = await varsFor(q.varMetric);
    const expr = substitute(q.expr, v);
    const end = Date.now() / 1000;
    const series = await prom.queryRange(expr, Math.floor(trafficStart) - 2, end, 1);
    expect(series.length, expr).toBeGreaterThan(0);
    expect(finiteValues(series).length, `no finite value: ${expr}`).toBeGreaterThan(0);
  });
});

describe('alerts fire against the live cluster (rules with `for: 1s`)', () => {
  it('HeraldConnectionFailureRateHigh fires on a burst of bad tokens', async () => {
    // rate() cannot count the increments that created a series, so the failures that matter
    // come after the traffic above made the series exist: ten bad tokens in a row.
    const bad = await mintToken({ sub: 'mallory', tid: 't1' }, { secret: 'not-the-secret-but-long-enough-32-bytes!!' });
    for (let i = 0; i < 10; i++) {
      const b = new TestClient(`ws://127.0.0.1:${c.haproxy.edgePort}/ws`);
      clients.push(b);
      await b.open();
      b.send({ type: 'auth', token: bad });
      await b.closed();
    }
    const firing = await waitFor(
      async () => (await prom.alerts()).find((a) => a.labels.alertname === 'HeraldConnectionFailureRateHigh' && a.state === 'firing'),
      { timeoutMs: 20_000, what: 'HeraldConnectionFailureRateHigh firing' },
    );
    expect(firing.labels).toMatchObject({ namespace: 'herald-test', job: 'herald-edge', severity: 'warning' });
    expect(Number(firing.value)).toBeGreaterThan(0.01);
  });

  it('HeraldNatsDisconnected fires for every pod when NATS stops', async () => {
    const before = await prom.alerts();
    expect(before.filter((a) => a.labels.alertname === 'HeraldNatsDisconnected')).toEqual([]);
    expect(await stopProcess(c.stateDir, 'nats-0', 10_000)).toBe('stopped');
    const pods = await waitFor(
      async () => {
        const p = (await prom.alerts()).filter((a) => a.labels.alertname === 'HeraldNatsDisconnected' && a.state === 'firing').map((a) => a.labels.pod).sort();
        return p.length === 3 ? p : undefined;
      },
      { timeoutMs: 30_000, what: 'HeraldNatsDisconnected firing for edge-0, edge-1 and publisher-0' },
    );
    expect(pods).toEqual(['edge-0', 'edge-1', 'publisher-0']);
  });
});

describe('cluster down', () => {
  it('stops exactly what up started', async () => {
    const recs = ['publisher-0', 'edge-0', 'edge-1', 'haproxy', 'prometheus'].map((n) => readPid(c.stateDir, n));
    expect(recs.every((r) => isAlive(r))).toBe(true);
    const said: string[] = [];
    await down(c, (l) => said.push(l));
    expect(recs.some((r) => isAlive(r))).toBe(false);
    // nats-0 was stopped by the alert test above; down reports the five it stopped.
    expect(said.at(-1)).toBe('stopped 5 processes');
  });
});
