/**
 * The local cluster's generated configuration, checked by the tools that will run it, and its
 * NATS least-privilege users proven against a real nats-server (DESIGN.md security rule 7).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { freePort, natsServerPath, waitFor } from '@herald/testkit';
import { ClusterConfigError, DEFAULT_CONFIG, loadClusterConfig, type ClusterConfig } from '../../k8s/local/config.js';
import { haproxyConfig, natsConfig, processSpecs, prometheusConfig } from '../../k8s/local/render.js';

const dir = mkdtempSync(join(tmpdir(), 'herald-render-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('k8s/local/cluster.yaml', () => {
  const c = loadClusterConfig(DEFAULT_CONFIG, { stateDir: dir });

  it('describes the topology of issue 8: 3 NATS, 3 edges, 2 publishers, HAProxy, Prometheus', () => {
    const names = processSpecs(c).map((s) => s.name);
    expect(names).toEqual(['nats-0', 'nats-1', 'nats-2', 'publisher-0', 'publisher-1', 'edge-0', 'edge-1', 'edge-2', 'haproxy', 'prometheus']);
  });

  it('rejects overlapping ports and settings that are not HERALD_*', () => {
    expect(() => loadClusterConfig(DEFAULT_CONFIG, { stateDir: dir, prometheus: { port: c.edge.port + 1 } })).toThrow(/ports overlap/);
    expect(() => loadClusterConfig(DEFAULT_CONFIG, { stateDir: dir, edge: { env: { NODE_OPTIONS: '--inspect' } } })).toThrow(ClusterConfigError);
  });

  it('renders NATS configs that nats-server accepts, clustered with routes to the other nodes', () => {
    for (let i = 0; i < c.nats.replicas; i++) {
      const file = join(dir, `nats-${i}.conf`);
      const text = natsConfig(c, i);
      writeFileSync(file, text);
      const r = spawnSync(natsServerPath(), ['-c', file, '-t'], { encoding: 'utf8' });
      expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
      expect(text.match(/nats-route:\/\//g)?.length).toBe(c.nats.replicas - 1);
    }
  });

  it('renders an HAProxy config haproxy -c accepts: /ws balanced, the rest cookie-sticky, /readyz checks', () => {
    const file = join(dir, 'haproxy.cfg');
    const text = haproxyConfig(c);
    writeFileSync(file, text);
    const r = spawnSync('haproxy', ['-c', '-f', file], { encoding: 'utf8' });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    const backend = (name: string) => text.slice(text.indexOf(`\nbackend ${name}\n`) + 1).split(/\n\n/)[0]!;
    expect(text).toMatch(/use_backend edge_ws if \{ path \/ws \}/);
    expect(backend('edge_ws')).not.toMatch(/cookie/);
    expect(backend('edge_http')).toMatch(/cookie herald_edge insert/);
    for (const b of ['edge_ws', 'edge_http', 'publisher']) expect(backend(b)).toMatch(/option httpchk GET \/readyz/);
    expect(backend('edge_http').match(/^ {2}server edge-\d .* check port \d+ cookie edge-\d$/gm)?.length).toBe(c.edge.replicas);
  });

  it('renders a Prometheus config promtool accepts, every process a target with job, namespace and pod', () => {
    const file = join(dir, 'prometheus.yml');
    writeFileSync(file, prometheusConfig(c));
    const r = spawnSync('promtool', ['check', 'config', file], { encoding: 'utf8' });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    const text = prometheusConfig(c);
    for (const pod of ['edge-0', 'edge-1', 'edge-2', 'publisher-0', 'publisher-1']) expect(text).toContain(`pod: ${pod}`);
    expect(text).toContain('job_name: herald-edge');
    expect(text).toContain('job_name: herald-publisher');
    expect(text).toContain(`namespace: ${c.namespace}`);
  });
});

describe('NATS users of the local cluster (least privilege)', () => {
  let c: ClusterConfig;
  let server: ReturnType<typeof spawn>;
  const conns: NatsConnection[] = [];

  beforeAll(async () => {
    c = loadClusterConfig(DEFAULT_CONFIG, {
      stateDir: dir,
      nats: { replicas: 1, clientPort: await freePort(), clusterPort: await freePort(), monitorPort: await freePort() },
    });
    const file = join(dir, 'nats-auth.conf');
    writeFileSync(file, natsConfig(c, 0));
    server = spawn(natsServerPath(), ['-c', file], { stdio: 'ignore' });
    await waitFor(async () => (await fetch(`http://127.0.0.1:${c.nats.monitorPort}/healthz`).catch(() => undefined))?.ok, { what: 'nats-server' });
  });
  afterAll(async () => {
    await Promise.all(conns.map((nc) => nc.close()));
    server?.kill();
  });

  async function as(who: 'edge' | 'publisher'): Promise<NatsConnection> {
    const u = c.nats.users![who];
    const nc = await connect({ servers: `127.0.0.1:${c.nats.clientPort}`, user: u.user, pass: u.password });
    conns.push(nc);
    return nc;
  }

  /** Publish and flush; resolves to the permission error the server sends back, if any. */
  async function tryPublish(nc: NatsConnection, subject: string): Promise<string | undefined> {
    let denied: string | undefined;
    const watch = (async () => {
      for await (const s of nc.status()) if (s.type === 'error' && /Permissions Violation/i.test(String(s.error))) denied = String(s.error);
    })();
    void watch;
    nc.publish(subject, 'x');
    await nc.flush();
    await waitFor(() => denied !== undefined, { timeoutMs: 1_000, what: 'permission error' }).catch(() => undefined);
    return denied;
  }

  it('refuses a client without credentials', async () => {
    await expect(connect({ servers: `127.0.0.1:${c.nats.clientPort}` })).rejects.toThrow(/Authorization/i);
  });

  it('lets the edge subscribe to live subjects but not publish notifications', async () => {
    const nc = await as('edge');
    expect(await tryPublish(nc, `${c.subjectPrefix}.n.t.acme.u.42`)).toMatch(/Permissions Violation for Publish/);
    expect(await tryPublish(nc, `${c.subjectPrefix}.live.t.acme.u.42`)).toMatch(/Permissions Violation for Publish/);
    expect(await tryPublish(nc, `$JS.API.STREAM.DELETE.${c.streamName}`)).toMatch(/Permissions Violation for Publish/);
  });

  it('lets the publisher publish notifications but not read live subjects', async () => {
    const nc = await as('publisher');
    expect(await tryPublish(nc, `${c.subjectPrefix}.n.t.acme.u.42`)).toBeUndefined();
    let denied = '';
    void (async () => {
      for await (const s of nc.status()) if (s.type === 'error') denied = String(s.error);
    })();
    nc.subscribe(`${c.subjectPrefix}.live.>`);
    await nc.flush();
    await waitFor(() => /Permissions Violation for Subscription/.test(denied), { timeoutMs: 2_000, what: 'subscription refused' });
  });

  it('lets the edge subscribe to live subjects and revocations, and nothing else', async () => {
    const nc = await as('edge');
    const errors: string[] = [];
    void (async () => {
      for await (const s of nc.status()) if (s.type === 'error') errors.push(String(s.error));
    })();
    nc.subscribe(`${c.subjectPrefix}.live.>`);
    nc.subscribe(`${c.subjectPrefix}.ctl.revocations`);
    await nc.flush();
    await nc.flush();
    expect(errors).toEqual([]);
    nc.subscribe(`${c.subjectPrefix}.n.>`);
    await waitFor(() => errors.some((e) => /Permissions Violation for Subscription/.test(e)), { timeoutMs: 2_000, what: 'subscription to herald.n.> refused' });
  });
});
