// Fan-out latency: LISTENERS tenant admins of one tenant hold WebSockets (all in the `tenant` room);
// a publisher posts to that room at a constant arrival rate. Every delivery is timed from the
// payload's `ts` (the publisher's clock at publish) to its arrival here, so the figure is
// publish → PubAck → republish → edge → ingress → client, the whole path a user sees.
//
//   k6 run -e TOKENS_FILE=$PWD/tmp/k6-admin-tokens.json -e SERVICE_TOKEN=... loadtest/fanout.ts
import { check } from 'k6';
import exec from 'k6/execution';
import { Counter, Rate, Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import { clearTimeout, setTimeout } from 'k6/timers';
import { identify, loadClientTokens, num, requireServiceToken, tokenForVu } from './lib/config.ts';
import { connect, parseServerMessage, publish } from './lib/herald.ts';
import { TREND_STATS, summaryOutputs, type SummaryData } from './lib/summary.ts';

const LISTENERS = num('LISTENERS', 100);
/** Notifications per second into the room. The publisher's per-tenant limit is 100/s per replica. */
const RATE = num('RATE', 20);
/** Listeners connect this many per second: the edge's per-IP limit is 20/s (burst 50) by default. */
const CONNECT_RATE = num('CONNECT_RATE', 15);
/** Time for every listener to connect before publishing starts. */
const WARMUP_S = num('WARMUP_S', Math.ceil(LISTENERS / CONNECT_RATE) + 5);
const DURATION_S = num('DURATION_S', 60);
/** Time after the last publish for the last deliveries to arrive. */
const COOLDOWN_S = num('COOLDOWN_S', 5);
const EVENT = 'k6.fanout';

const tokens = loadClientTokens();
const serviceToken = requireServiceToken();
const first = identify(tokenForVu(tokens, 1));
const TENANT = first.tenant;

const expected = Math.floor(RATE * DURATION_S) * LISTENERS;

export const options: Options = {
  scenarios: {
    listeners: {
      executor: 'per-vu-iterations',
      exec: 'listen',
      vus: LISTENERS,
      iterations: 1,
      maxDuration: `${WARMUP_S + DURATION_S + COOLDOWN_S + 15}s`,
    },
    publisher: {
      executor: 'constant-arrival-rate',
      exec: 'publishOne',
      rate: RATE,
      timeUnit: '1s',
      startTime: `${WARMUP_S}s`,
      duration: `${DURATION_S}s`,
      preAllocatedVUs: Math.max(2, Math.ceil(RATE / 20)),
      maxVUs: Math.max(10, Math.ceil(RATE / 2)),
    },
  },
  thresholds: {
    // DESIGN targets for delivery latency (user and tenant rooms).
    herald_delivery_latency: ['p(50)<2', 'p(99)<25'],
    // Every stored notification reaches every listener (1 % slack for a listener that reconnects).
    herald_delivered: [`count>=${Math.floor(expected * 0.99)}`],
    herald_publish_accepted: ['rate>0.99'],
    herald_listener_ready: ['rate>0.99'],
  },
  summaryTrendStats: TREND_STATS,
};

const latency = new Trend('herald_delivery_latency', true);
const delivered = new Counter('herald_delivered');
const accepted = new Rate('herald_publish_accepted');
const ready = new Rate('herald_listener_ready');

export function listen(): void {
  // VU ids are shared with the publisher scenario; the iteration number is 0..LISTENERS-1 here.
  const n = exec.scenario.iterationInTest;
  // Stagger the connects so they stay under the per-IP connect limit.
  setTimeout(() => hold(n), (n / CONNECT_RATE) * 1000);
}

function hold(n: number): void {
  const until = exec.scenario.startTime + (WARMUP_S + DURATION_S + COOLDOWN_S) * 1000;
  const ws = connect(tokenForVu(tokens, n + 1), { scenario: 'listeners' });
  let settled = false; // ready recorded once per listener: true at welcome in the tenant room, else false
  const notReady = (why: string): void => {
    if (settled) return;
    settled = true;
    ready.add(false, { why });
    ws.close();
  };
  const welcomeTimer = setTimeout(() => notReady('welcome_timeout'), 10_000);

  ws.addEventListener('message', (e) => {
    const received = Date.now();
    const msg = parseServerMessage('data' in e ? e.data : undefined);
    if (msg === null) return;
    if (msg.type === 'notification') {
      if (msg.event !== EVENT) return;
      latency.add(received - msg.ts);
      delivered.add(1);
    } else if (msg.type === 'welcome' && !settled) {
      clearTimeout(welcomeTimer);
      // Not an admin: it would only dilute the delivery count, so it counts as not ready.
      if (!msg.rooms.includes('tenant')) return notReady('not_in_tenant_room');
      settled = true;
      ready.add(true);
      setTimeout(() => ws.close(), Math.max(0, until - Date.now()));
    } else if (msg.type === 'error') {
      notReady(`error_${msg.code}`);
    }
  });
  // A listener that loses its connection is not replaced: the missing deliveries show in
  // herald_delivered, which is the point.
  ws.addEventListener('close', () => {
    clearTimeout(welcomeTimer);
    notReady('closed_before_welcome');
  });
}

export function publishOne(): void {
  const res = publish(serviceToken, {
    tenant: TENANT,
    room: 'tenant',
    event: EVENT,
    data: { vu: exec.vu.idInTest, iter: exec.scenario.iterationInTest },
  });
  accepted.add(res.status === 202);
  check(res, { 'published (202)': (r) => r.status === 202 });
}

export function handleSummary(data: SummaryData): Record<string, string> {
  return summaryOutputs('fanout', data, [
    'herald_delivery_latency',
    'herald_delivered',
    'herald_publish_accepted',
    'herald_listener_ready',
    'http_req_duration',
    'ws_connecting',
  ]);
}
