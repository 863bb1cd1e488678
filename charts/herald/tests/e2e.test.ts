// The chart's runtime contract, exercised without a cluster: the dev NATS configuration the chart
// renders (least-privilege users) runs in a real nats-server; edge and publisher start with the
// environment the chart gives their containers; the `helm test` script delivers end to end with
// tokens from k8s/scripts/mint-tokens.mjs; the edge's NATS credentials cannot publish.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ServiceProcess, TestClient, freePort, waitFor } from '@herald/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Any, CHART_DIR, type K8sObject, REPO_ROOT, VALUE_SETS, get, one, render } from './helm.js';

const run = promisify(execFile);
const NATS_SERVER = join(process.env.HERALD_TOOLS ?? join(REPO_ROOT, 'tools'), 'bin', 'nats-server');
// What k8s/scripts/kind-install.sh puts in the Secrets herald-nats-edge / herald-nats-publisher.
const SECRETS: Record<string, Record<string, string>> = {
  'herald-nats-edge': { user: 'edge', password: 'edge-pw-123' },
  'herald-nats-publisher': { user: 'publisher', password: 'publisher-pw-456' },
};

let dir = '';
let objs: K8sObject[] = [];
let nats: ChildProcess | undefined;
let natsPort = 0;
const procs: ServiceProcess[] = [];
const ports = { edge: 0, edgeInternal: 0, publisher: 0, publisherInternal: 0 };
let privateKeyFile = '';

/** The rendered nats.conf, made single-node for one machine: no cluster routes, temp paths, free port. */
function singleNodeConf(conf: string): string {
  return conf
    .replace(/cluster \{[\s\S]*?\n\}\n/, '')
    .replace(/^http_port: .*$/m, '')
    .replace(/^port: 4222$/m, `port: ${natsPort}\nhost: 127.0.0.1`)
    .replace('store_dir: /data', `store_dir: "${join(dir, 'js')}"`)
    .replace('pid_file: /var/run/nats/nats.pid', `pid_file: "${join(dir, 'nats.pid')}"`);
}

/** A container's environment as Kubernetes builds it from the rendered objects. */
function containerEnv(component: string): Record<string, string> {
  const d = one(objs, 'Deployment', `-${component}`);
  const c = get(d, 'spec.template.spec.containers.0');
  const env: Record<string, string> = {};
  for (const from of (c.envFrom ?? []) as Any[]) {
    Object.assign(env, get(objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === from.configMapRef.name), 'data'));
  }
  for (const e of (c.env ?? []) as Any[]) {
    const ref = e.valueFrom?.secretKeyRef;
    env[e.name] = ref ? (SECRETS[ref.name]?.[ref.key] ?? `missing-${ref.name}/${ref.key}`) : e.value;
  }
  return env;
}

async function natsProtocol(user: string, pass: string, lines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(natsPort, '127.0.0.1');
    let out = '';
    sock.on('data', (d) => {
      out += d.toString();
      if (out.includes('PONG')) sock.end();
    });
    sock.on('error', reject);
    sock.on('close', () => resolve(out));
    sock.once('data', () => {
      sock.write(`CONNECT ${JSON.stringify({ user, pass, verbose: false, pedantic: false, protocol: 1 })}\r\n`);
      for (const l of lines) sock.write(`${l}\r\n`);
      sock.write('PING\r\n');
    });
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'herald-chart-e2e-'));
  objs = await render({ files: VALUE_SETS.kind as string[] });
  natsPort = await freePort();
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();

  const conf = singleNodeConf(get(one(objs, 'ConfigMap', '-nats'), 'data')['nats.conf']);
  writeFileSync(join(dir, 'nats.conf'), conf);
  const sts = one(objs, 'StatefulSet', '-nats');
  const natsEnv: Record<string, string> = { POD_NAME: 'nats-0' };
  for (const e of get(sts, 'spec.template.spec.containers.0.env') as Any[]) {
    const ref = e.valueFrom?.secretKeyRef;
    if (ref) natsEnv[e.name] = SECRETS[ref.name]?.[ref.key] as string;
  }
  nats = spawn(NATS_SERVER, ['-c', join(dir, 'nats.conf')], { env: natsEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let natsLog = '';
  nats.stderr?.on('data', (d: Buffer) => (natsLog += d.toString()));
  await waitFor(() => natsLog.includes('Server is ready') || undefined, { timeoutMs: 15_000, what: `nats-server ready:\n${natsLog}` });

  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  privateKeyFile = join(dir, 'private.pem');
  writeFileSync(privateKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(join(dir, 'public.pem'), publicKey.export({ type: 'spki', format: 'pem' }));

  for (const [svc, port, internal] of [
    ['publisher', ports.publisher, ports.publisherInternal],
    ['edge', ports.edge, ports.edgeInternal],
  ] as const) {
    const env = {
      ...containerEnv(svc),
      HERALD_NATS_URL: `nats://127.0.0.1:${natsPort}`,
      HERALD_PORT: String(port),
      HERALD_INTERNAL_PORT: String(internal),
      HERALD_JWT_PUBLIC_KEY_FILE: join(dir, 'public.pem'),
      // One nats-server here instead of the chart's three.
      ...(svc === 'publisher' ? { HERALD_STREAM_REPLICAS: '1' } : {}),
    };
    const p = new ServiceProcess(`services/${svc}/src/main.ts`, env);
    procs.push(p);
    await waitFor(
      async () => {
        if (!p.running) throw new Error(`${svc} exited:\n${p.output.slice(-3000)}`);
        const res = await fetch(`http://127.0.0.1:${internal}/readyz`).catch(() => undefined);
        return res?.status === 200 || undefined;
      },
      { timeoutMs: 30_000, what: `${svc} /readyz` },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${p.output.slice(-3000)}`);
    });
  }
}, 90_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  nats?.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function mint(tenant: string, scope = 'notify:publish'): Promise<{ clientToken: string; serviceToken: string }> {
  const vals = { iss: 'https://kind.herald.local/' };
  const { stdout } = await run(process.execPath, [
    join(REPO_ROOT, 'k8s/scripts/mint-tokens.mjs'), '--key', privateKeyFile, '--issuer', vals.iss, '--tenant', tenant, '--sub', 'smoke-1', '--ttl', '600', '--service-scope', scope,
  ]);
  return JSON.parse(stdout) as { clientToken: string; serviceToken: string };
}

function smoke(env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--experimental-websocket', '--no-warnings', join(CHART_DIR, 'files/smoke.mjs')], {
      env: {
        PATH: process.env.PATH ?? '',
        EDGE_WS_URL: `ws://127.0.0.1:${ports.edge}/ws`,
        PUBLISHER_URL: `http://127.0.0.1:${ports.publisher}`,
        TIMEOUT_S: '10',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) => resolve({ code: code ?? 1, out }));
  });
}

describe('chart runtime contract (kind values, no cluster)', () => {
  it('the helm test script publishes through the publisher and receives over the edge', async () => {
    const t = await mint('acme');
    const res = await smoke({ CLIENT_TOKEN: t.clientToken, SERVICE_TOKEN: t.serviceToken });
    expect(res.out).toMatch(/delivered: id=\S+ seq=\d+/);
    expect(res.code).toBe(0);
  });

  it('the helm test script fails when delivery cannot happen', async () => {
    const t = await mint('acme');
    const other = await mint('globex');
    // A service token for another tenant: the publisher refuses, the script reports it and fails.
    const res = await smoke({ CLIENT_TOKEN: t.clientToken, SERVICE_TOKEN: other.serviceToken });
    expect(res.code).toBe(1);
    expect(res.out).toMatch(/FAIL: publisher answered 403/);
  });

  it("the edge's NATS credentials cannot publish notifications; the publisher's can", async () => {
    const edge = SECRETS['herald-nats-edge'] as Record<string, string>;
    const pub = SECRETS['herald-nats-publisher'] as Record<string, string>;
    const denied = await natsProtocol(edge.user as string, edge.password as string, ['PUB herald.n.t.acme.u.1 2', 'hi']);
    expect(denied).toMatch(/Permissions Violation for Publish to "herald\.n\.t\.acme\.u\.1"/);
    const live = await natsProtocol(edge.user as string, edge.password as string, ['PUB herald.live.t.acme.u.1 2', 'hi']);
    expect(live).toMatch(/Permissions Violation for Publish/);
    const ok = await natsProtocol(pub.user as string, pub.password as string, ['PUB herald.n.t.acme.u.1 2', 'hi']);
    expect(ok).not.toMatch(/Permissions Violation/);
    expect(ok).toMatch(/PONG/);
    // The publisher cannot read what edges read.
    const sub = await natsProtocol(pub.user as string, pub.password as string, ['SUB herald.live.> 1']);
    expect(sub).toMatch(/Permissions Violation for Subscription to "herald\.live\.>"/);
  });

  it('a revocation through the publisher (KV write, control broadcast) closes the session on the edge', async () => {
    const t = await mint('acme');
    const client = new TestClient(`ws://127.0.0.1:${ports.edge}/ws`);
    await client.auth(t.clientToken);
    const admin = await mint('acme', 'notify:revoke');
    const res = await fetch(`http://127.0.0.1:${ports.publisher}/v1/revocations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.serviceToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: 'acme', sub: 'smoke-1' }),
    });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
    await waitFor(() => client.closeCode, { timeoutMs: 5_000, what: 'revoked connection closed' });
    expect(client.closeCode).toBe(4503);
  });
});
