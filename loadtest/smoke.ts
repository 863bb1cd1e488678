// Smoke: one client connects, one notification is published to its user room, and it must arrive
// (with the id the publisher answered) within TIMEOUT_S. The same end-to-end check as `helm test`,
// but from outside the cluster through the ingress.
//
//   k6 run -e CLIENT_TOKEN=... -e SERVICE_TOKEN=... loadtest/smoke.ts
import { check } from 'k6';
import { Counter, Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import { clearTimeout, setTimeout } from 'k6/timers';
import { identify, loadClientTokens, num, requireServiceToken, tokenForVu } from './lib/config.ts';
import { connect, parseServerMessage, publish } from './lib/herald.ts';
import { TREND_STATS, summaryOutputs, type SummaryData } from './lib/summary.ts';

const TIMEOUT_S = num('TIMEOUT_S', 10);
const EVENT = 'k6.smoke';

const client = identify(tokenForVu(loadClientTokens(), 1));
const serviceToken = requireServiceToken();

export const options: Options = {
  scenarios: {
    smoke: { executor: 'per-vu-iterations', vus: 1, iterations: 1, maxDuration: `${TIMEOUT_S + 10}s` },
  },
  thresholds: {
    // Every check passes: welcome, 202, the notification arrived intact.
    checks: ['rate==1'],
    herald_smoke_delivered: ['count==1'],
  },
  summaryTrendStats: TREND_STATS,
};

const delivered = new Counter('herald_smoke_delivered');
const latency = new Trend('herald_delivery_latency', true);

export default function (): void {
  const ws = connect(client.token, { scenario: 'smoke' });
  const nonce = `${Date.now()}-${Math.floor(Math.random() * 1e9)}`;
  let publishedId = '';
  let done = false;
  delivered.add(0);

  const finish = (arrived: boolean): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    check(arrived, { 'notification arrived in time': (a) => a });
    ws.close();
  };
  const timer = setTimeout(() => finish(false), TIMEOUT_S * 1000);

  ws.addEventListener('message', (e) => {
    const received = Date.now();
    const msg = parseServerMessage('data' in e ? e.data : undefined);
    if (msg?.type === 'welcome') {
      check(msg, { 'welcome includes the user room': (m) => m.rooms.includes(`user:${client.sub}`) });
      // Subscribed once welcome is sent, so publishing now cannot race the subscription.
      const res = publish(serviceToken, {
        tenant: client.tenant,
        room: `user:${client.sub}`,
        event: EVENT,
        data: { nonce },
      });
      const ok = check(res, { 'published (202)': (r) => r.status === 202 });
      if (!ok) return finish(false);
      const body: unknown = res.json();
      publishedId = typeof body === 'object' && body !== null && 'id' in body ? String(body.id) : '';
    } else if (msg?.type === 'notification' && msg.event === EVENT && msg.data.nonce === nonce) {
      latency.add(received - msg.ts);
      delivered.add(1);
      check(msg, {
        'notification has the published id': (m) => m.id === publishedId,
        'notification has a seq': (m) => Number.isInteger(m.seq) && m.seq > 0,
      });
      finish(true);
    } else if (msg?.type === 'error') {
      finish(false);
    }
  });
  ws.addEventListener('close', () => finish(false));
}

export function handleSummary(data: SummaryData): Record<string, string> {
  return summaryOutputs('smoke', data, ['herald_smoke_delivered', 'herald_delivery_latency', 'checks']);
}
