// Connection ramp: VUs open one WebSocket each through the ingress, authenticate, wait for
// `welcome` and then hold the idle connection (the edge pings; k6 answers) until the hold stage
// ends. Measures how reliably and how fast Herald accepts connections while they pile up, and
// whether it keeps them (drops while idle are counted).
//
//   k6 run -e TOKENS_FILE=$PWD/tmp/k6-tokens.json -e TARGET=1000 loadtest/connections.ts
import { check, sleep } from 'k6';
import exec from 'k6/execution';
import { Counter, Rate, Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import { clearTimeout, setTimeout } from 'k6/timers';
import { identify, loadClientTokens, num, tokenForVu } from './lib/config.ts';
import { connect, parseServerMessage } from './lib/herald.ts';
import { TREND_STATS, summaryOutputs, type SummaryData } from './lib/summary.ts';

const TARGET = num('TARGET', 1000);
const RAMP_S = num('RAMP_S', 60);
const HOLD_S = num('HOLD_S', 120);
const WELCOME_TIMEOUT_S = num('WELCOME_TIMEOUT_S', 10);

const tokens = loadClientTokens();
identify(tokenForVu(tokens, 1)); // fail in init, not in 1000 VUs, when the file holds no usable token

// The edge limits connection attempts per client IP (edge.config.connectRatePerIp, default 20/s with
// a burst of 50) and, behind the ingress, every k6 connection has the same IP: the default ramp
// (1000 in 60 s ≈ 17/s) stays under it. Ramp faster only after raising the limit.
const STAGES = {
  ramp: { duration: `${RAMP_S}s`, target: TARGET },
  hold: { duration: `${HOLD_S}s`, target: TARGET },
};

export const options: Options = {
  scenarios: {
    connections: {
      executor: 'ramping-vus',
      startVUs: 0,
      stages: [STAGES.ramp, STAGES.hold],
      // Every VU closes at the end of the hold stage on its own; this is the margin for that.
      gracefulStop: `${WELCOME_TIMEOUT_S + 10}s`,
    },
  },
  thresholds: {
    // A connection that does not reach `welcome` (refused, closed, error, timeout) is a failure.
    herald_ws_connect_failed: ['rate<0.01'],
    // TCP + HTTP upgrade through the ingress.
    ws_connecting: ['p(95)<300'],
    // Upgrade done → `welcome` received: token verification and room set-up on the edge.
    herald_ws_welcome_duration: ['p(95)<500'],
    // Idle connections the server closed before the hold ended.
    herald_ws_dropped: ['count<1'],
  },
  summaryTrendStats: TREND_STATS,
};

const connectFailed = new Rate('herald_ws_connect_failed');
const welcomeDuration = new Trend('herald_ws_welcome_duration', true);
const dropped = new Counter('herald_ws_dropped');

export default function (): void {
  const holdUntil = exec.scenario.startTime + (RAMP_S + HOLD_S) * 1000;
  if (Date.now() >= holdUntil) return;
  // A later iteration is a reconnect after a failure or a drop: back off like a client would,
  // rather than hammering the edge (and the failure rate) in a tight loop.
  if (exec.vu.iterationInScenario > 0) sleep(1 + Math.random() * 2);

  const ws = connect(tokenForVu(tokens, exec.vu.idInTest), { scenario: 'connections' });
  let openedAt = 0;
  let welcomed = false;
  let closing = false;

  const fail = (why: string): void => {
    if (welcomed || closing) return;
    closing = true;
    connectFailed.add(true, { why });
    ws.close();
  };
  const welcomeTimer = setTimeout(() => fail('welcome_timeout'), WELCOME_TIMEOUT_S * 1000);

  ws.addEventListener('open', () => {
    openedAt = Date.now();
  });
  ws.addEventListener('message', (e) => {
    const msg = parseServerMessage('data' in e ? e.data : undefined);
    if (msg?.type === 'welcome' && !welcomed) {
      welcomed = true;
      clearTimeout(welcomeTimer);
      connectFailed.add(false);
      dropped.add(0); // so the threshold has samples even when nothing drops
      welcomeDuration.add(Date.now() - openedAt);
      check(msg, { 'welcome lists the user room': (m) => m.rooms.some((r) => r.startsWith('user:')) });
      // Hold the idle connection until the end of the hold stage.
      setTimeout(() => {
        closing = true;
        ws.close();
      }, Math.max(0, holdUntil - Date.now()));
    } else if (msg?.type === 'error') {
      fail(`error_${msg.code}`);
    }
  });
  ws.addEventListener('error', () => fail('socket_error'));
  ws.addEventListener('close', () => {
    clearTimeout(welcomeTimer);
    if (!welcomed) fail('closed_before_welcome');
    else if (!closing) dropped.add(1);
    // The iteration ends here; a dropped VU reconnects on its next iteration, as a client would.
  });
}

export function handleSummary(data: SummaryData): Record<string, string> {
  return summaryOutputs('connections', data, [
    'herald_ws_connect_failed',
    'ws_connecting',
    'herald_ws_welcome_duration',
    'herald_ws_dropped',
    'ws_sessions',
  ]);
}
