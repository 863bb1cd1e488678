// k6 smoke run against Herald on kind/minikube (run by `make kind-test` when k6 is installed).
// Listeners hold WebSockets through the ingress; a publisher posts to the publisher API
// (port-forwarded); delivery count and latency (from the envelope's publish time) are thresholds.
//   WS_URL=ws://localhost/ws PUBLISHER_URL=http://127.0.0.1:18081 CLIENT_TOKEN=... SERVICE_TOKEN=... k6 run k8s/k6/smoke.js
import encoding from 'k6/encoding';
import http from 'k6/http';
import { check } from 'k6';
import { Counter, Trend } from 'k6/metrics';
import ws from 'k6/ws';

const WS_URL = __ENV.WS_URL || 'ws://localhost/ws';
const PUBLISHER_URL = __ENV.PUBLISHER_URL || 'http://127.0.0.1:18081';
const CLIENT_TOKEN = __ENV.CLIENT_TOKEN;
const SERVICE_TOKEN = __ENV.SERVICE_TOKEN;
const TENANT_CLAIM = __ENV.TENANT_CLAIM || 'tid';
const LISTENERS = Number(__ENV.LISTENERS || 10);

const claims = JSON.parse(encoding.b64decode(CLIENT_TOKEN.split('.')[1], 'rawurl', 's'));
const latency = new Trend('herald_delivery_latency', true);
const delivered = new Counter('herald_delivered');

export const options = {
  scenarios: {
    listen: { executor: 'constant-vus', exec: 'listen', vus: LISTENERS, duration: '30s', gracefulStop: '5s' },
    publish: {
      executor: 'constant-arrival-rate', exec: 'publish', rate: 5, timeUnit: '1s',
      duration: '20s', startTime: '5s', preAllocatedVUs: 2,
    },
  },
  thresholds: {
    checks: ['rate>0.99'],
    // 100 notifications reach each of the listeners; allow a little for connection churn.
    herald_delivered: [`count>${Math.floor(100 * LISTENERS * 0.9)}`],
    herald_delivery_latency: ['p(95)<250', 'p(99)<500'],
  },
};

export function listen() {
  const res = ws.connect(WS_URL, {}, (socket) => {
    socket.on('open', () => socket.send(JSON.stringify({ type: 'auth', token: CLIENT_TOKEN })));
    socket.on('message', (raw) => {
      const msg = JSON.parse(raw);
      if (msg.type === 'notification') {
        delivered.add(1);
        latency.add(Date.now() - msg.ts);
      }
    });
    socket.setTimeout(() => socket.close(), 29000);
  });
  check(res, { 'websocket upgraded': (r) => r && r.status === 101 });
}

export function publish() {
  const res = http.post(
    `${PUBLISHER_URL}/v1/notifications`,
    JSON.stringify({ tenant: claims[TENANT_CLAIM], room: `user:${claims.sub}`, event: 'k6.smoke', data: { vu: __VU, iter: __ITER } }),
    { headers: { authorization: `Bearer ${SERVICE_TOKEN}`, 'content-type': 'application/json' } },
  );
  check(res, { 'published (202)': (r) => r.status === 202 });
}
