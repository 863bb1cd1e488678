// The k6 scripts' iteration functions, run in Node (test/k6/ stands in for the k6 modules) against a
// real nats-server, publisher and edge configured like kind (RS256 keys, audiences herald and
// herald-publisher), with tokens from the scripts users run. This is what can be proven without
// k6: the scripts speak Herald's protocol and publish API correctly, and their checks and metrics
// fail when delivery does.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NatsServer, ServiceProcess, freePort, uniquePrefix, waitFor } from '@herald/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { recorded, reset, samples } from './k6/state.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ISSUER = 'https://kind.herald.local/';
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

let dir = '';
let nats: NatsServer;
const procs: ServiceProcess[] = [];
const ports = { edge: 0, edgeInternal: 0, publisher: 0, publisherInternal: 0 };
let env: Record<string, string> = {};

function node(script: string, ...args: string[]): string {
  return execFileSync(process.execPath, [join(ROOT, script), '--key', join(dir, 'private.pem'), '--issuer', ISSUER, ...args], { encoding: 'utf8' });
}

/** Imports a script afresh with this __ENV (scripts read their settings once, at import). */
async function load<T>(script: string, overrides: Record<string, string> = {}): Promise<T> {
  vi.resetModules();
  (globalThis as Record<string, unknown>).__ENV = { ...env, ...overrides };
  (globalThis as Record<string, unknown>).open = (p: string) => readFileSync(p, 'utf8');
  const path = join(ROOT, 'loadtest', script);
  return (await import(path)) as T;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'herald-loadtest-'));
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'private.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(join(dir, 'public.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
  nats = await NatsServer.start({ jetstream: true });
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  const prefix = uniquePrefix();

  for (const [svc, port, internal, audience] of [
    ['publisher', ports.publisher, ports.publisherInternal, 'herald-publisher'],
    ['edge', ports.edge, ports.edgeInternal, 'herald'],
  ] as const) {
    const p = new ServiceProcess(`services/${svc}/src/main.ts`, {
      HERALD_NATS_URL: nats.url,
      HERALD_PORT: String(port),
      HERALD_INTERNAL_PORT: String(internal),
      HERALD_SUBJECT_PREFIX: prefix,
      HERALD_JWT_PUBLIC_KEY_FILE: join(dir, 'public.pem'),
      HERALD_JWT_ALGORITHMS: 'RS256',
      HERALD_JWT_ISSUER: ISSUER,
      HERALD_JWT_AUDIENCE: audience,
    });
    procs.push(p);
    await waitFor(
      async () => {
        if (!p.running) throw new Error(`${svc} exited:\n${p.output.slice(-3000)}`);
        const res = await fetch(`http://127.0.0.1:${internal}/readyz`).catch(() => undefined);
        return res?.status === 200 || undefined;
      },
      { timeoutMs: 30_000, what: `${svc} /readyz` },
    );
  }

  writeFileSync(join(dir, 'tokens.json'), node('loadtest/scripts/mint-client-tokens.mjs', '--tenant', 'kind', '--count', '5'));
  const helmTest = JSON.parse(node('k8s/scripts/mint-tokens.mjs', '--tenant', 'kind')) as { clientToken: string; serviceToken: string };
  env = {
    BASE_URL: `http://127.0.0.1:${ports.edge}`,
    PUBLISHER_URL: `http://127.0.0.1:${ports.publisher}`,
    TOKENS_FILE: join(dir, 'tokens.json'),
    SERVICE_TOKEN: helmTest.serviceToken,
    RESULTS_DIR: join(dir, 'results'),
  };
}, 90_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await nats?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => reset());

const failedChecks = (): string[] => recorded.checks.filter((c) => !c.ok).map((c) => c.name);

describe('smoke.ts', () => {
  it('connects, publishes to its user room and sees the notification arrive', async () => {
    const smoke = await load<{ default: () => void }>('smoke.ts', { TIMEOUT_S: '10' });
    smoke.default();
    await waitFor(() => recorded.openSockets === 0 && recorded.checks.some((c) => c.name === 'notification arrived in time'), { timeoutMs: 15_000, what: 'smoke finished' }).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify({ checks: recorded.checks, open: recorded.openSockets })}\n${procs.map((p) => p.output.slice(-1500)).join('\n')}`);
    });
    expect(failedChecks()).toEqual([]);
    expect(recorded.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['published (202)', 'notification has the published id', 'notification arrived in time']));
    expect(sum(samples('herald_smoke_delivered'))).toBe(1);
    expect(samples('herald_delivery_latency')).toHaveLength(1);
  });

  it('fails its checks when the publisher refuses (service token for another tenant)', async () => {
    const other = JSON.parse(node('k8s/scripts/mint-tokens.mjs', '--tenant', 'globex')) as { serviceToken: string };
    const smoke = await load<{ default: () => void }>('smoke.ts', { SERVICE_TOKEN: other.serviceToken, TIMEOUT_S: '2' });
    smoke.default();
    await waitFor(() => recorded.openSockets === 0 && recorded.checks.some((c) => c.name === 'notification arrived in time'), { timeoutMs: 15_000, what: 'smoke finished' });
    expect(failedChecks()).toEqual(['published (202)', 'notification arrived in time']);
    expect(sum(samples('herald_smoke_delivered'))).toBe(0);
  });

  it('handleSummary writes <RESULTS_DIR>/smoke.json and reports failed thresholds on stdout', async () => {
    const smoke = await load<{ handleSummary: (d: unknown) => Record<string, string> }>('smoke.ts');
    const out = smoke.handleSummary({
      state: { testRunDurationMs: 1234 },
      metrics: {
        checks: { type: 'rate', contains: 'default', values: { rate: 0.5 }, thresholds: { 'rate==1': { ok: false } } },
        herald_smoke_delivered: { type: 'counter', contains: 'default', values: { count: 1 }, thresholds: { 'count==1': { ok: true } } },
      },
    });
    expect(Object.keys(out).sort()).toEqual([join(dir, 'results', 'smoke.json'), 'stdout'].sort());
    expect(out.stdout).toContain('FAIL checks: rate==1');
    expect(out.stdout).toContain('ok   herald_smoke_delivered: count==1');
    expect(out.stdout).toContain('1 threshold(s) failed');
  });
});

describe('fanout.ts', () => {
  it('tenant admins all receive every notification published to the tenant room, each timed', async () => {
    const fanout = await load<{ listen: () => void; publishOne: () => void }>('fanout.ts', {
      LISTENERS: '3', RATE: '1', CONNECT_RATE: '100', WARMUP_S: '1', DURATION_S: '3', COOLDOWN_S: '1',
    });
    recorded.exec.scenario.startTime = Date.now();
    for (let n = 0; n < 3; n++) {
      recorded.exec.scenario.iterationInTest = n;
      fanout.listen();
    }
    await waitFor(() => samples('herald_listener_ready').length === 3 || undefined, { timeoutMs: 10_000, what: '3 listeners ready' });
    expect(samples('herald_listener_ready')).toEqual([1, 1, 1]);
    for (let i = 0; i < 3; i++) fanout.publishOne();
    expect(samples('herald_publish_accepted')).toEqual([1, 1, 1]);
    await waitFor(() => sum(samples('herald_delivered')) === 9 || undefined, { timeoutMs: 10_000, what: '9 deliveries' });
    expect(samples('herald_delivery_latency')).toHaveLength(9);
    for (const ms of samples('herald_delivery_latency')) expect(ms).toBeGreaterThanOrEqual(0);
    // Listeners close themselves when warm-up + duration + cool-down is over.
    await waitFor(() => recorded.openSockets === 0 || undefined, { timeoutMs: 15_000, what: 'listeners closed' });
    expect(failedChecks()).toEqual([]);
  });

  it('a listener outside the tenant room (role member) counts as not ready', async () => {
    writeFileSync(join(dir, 'members.json'), node('loadtest/scripts/mint-client-tokens.mjs', '--tenant', 'kind', '--count', '1', '--roles', 'member'));
    const fanout = await load<{ listen: () => void }>('fanout.ts', { TOKENS_FILE: join(dir, 'members.json'), LISTENERS: '1' });
    recorded.exec.scenario.startTime = Date.now();
    recorded.exec.scenario.iterationInTest = 0;
    fanout.listen();
    await waitFor(() => (samples('herald_listener_ready').length === 1 && recorded.openSockets === 0) || undefined, { timeoutMs: 10_000, what: 'listener refused' });
    expect(recorded.samples.get('herald_listener_ready')).toEqual([{ value: 0, tags: { why: 'not_in_tenant_room' } }]);
  });
});

describe('connections.ts', () => {
  it('each VU reaches welcome, holds, and closes itself at the end of the hold stage without a drop', async () => {
    const conns = await load<{ default: () => void }>('connections.ts', { RAMP_S: '1', HOLD_S: '2' });
    recorded.exec.scenario.startTime = Date.now();
    for (let vu = 1; vu <= 3; vu++) {
      recorded.exec.vu.idInTest = vu;
      conns.default();
    }
    await waitFor(() => samples('herald_ws_connect_failed').length === 3 || undefined, { timeoutMs: 10_000, what: '3 welcomes' });
    expect(recorded.openSockets).toBe(3);
    await waitFor(() => recorded.openSockets === 0 || undefined, { timeoutMs: 10_000, what: 'held connections closed' });
    expect(samples('herald_ws_connect_failed')).toEqual([0, 0, 0]);
    expect(samples('herald_ws_welcome_duration')).toHaveLength(3);
    expect(sum(samples('herald_ws_dropped'))).toBe(0);
    expect(failedChecks()).toEqual([]);
  });

  it('a token the edge refuses is a connection failure', async () => {
    const tokens = JSON.parse(readFileSync(join(dir, 'tokens.json'), 'utf8')) as string[];
    writeFileSync(join(dir, 'bad.json'), JSON.stringify([`${tokens[0]!.slice(0, -4)}AAAA`]));
    const conns = await load<{ default: () => void }>('connections.ts', { TOKENS_FILE: join(dir, 'bad.json'), RAMP_S: '1', HOLD_S: '2' });
    recorded.exec.scenario.startTime = Date.now();
    recorded.exec.vu.idInTest = 1;
    conns.default();
    await waitFor(() => (samples('herald_ws_connect_failed').length === 1 && recorded.openSockets === 0) || undefined, { timeoutMs: 10_000, what: 'refused' });
    expect(samples('herald_ws_connect_failed')).toEqual([1]);
  });
});
