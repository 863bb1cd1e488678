// helm test: open a WebSocket to the edge, publish through the publisher, assert delivery.
// Runs in the edge image with `node --experimental-websocket` (Node 20: no dependencies needed).
const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const edgeUrl = env('EDGE_WS_URL');
const publisherUrl = env('PUBLISHER_URL');
const clientToken = env('CLIENT_TOKEN').trim();
const serviceToken = env('SERVICE_TOKEN').trim();
const tenantClaim = process.env.TENANT_CLAIM || 'tid';
const timeoutMs = Number(process.env.TIMEOUT_S || '20') * 1000;

// The room and tenant come from the client token itself, so the test needs no other input.
const payload = JSON.parse(Buffer.from(clientToken.split('.')[1] ?? '', 'base64url').toString('utf8'));
const tenant = payload[tenantClaim];
const sub = payload.sub;
if (!tenant || !sub) throw new Error(`client token lacks ${tenantClaim} or sub`);
const nonce = `helm-test-${Date.now()}-${Math.random().toString(36).slice(2)}`;

const fail = (msg) => {
  console.error(`FAIL: ${msg}`);
  process.exit(1);
};
const timer = setTimeout(() => fail(`no delivery within ${timeoutMs} ms`), timeoutMs);

const ws = new WebSocket(edgeUrl);
ws.addEventListener('open', () => ws.send(JSON.stringify({ type: 'auth', token: clientToken })));
ws.addEventListener('close', (ev) => fail(`edge closed the connection: ${ev.code} ${ev.reason}`));
ws.addEventListener('error', () => fail(`cannot connect to ${edgeUrl}`));
ws.addEventListener('message', async (ev) => {
  const msg = JSON.parse(String(ev.data));
  if (msg.type === 'welcome') {
    console.log(`connected to ${edgeUrl} as ${tenant}/${sub}, rooms ${JSON.stringify(msg.rooms)}`);
    const res = await fetch(`${publisherUrl}/v1/notifications`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${serviceToken}`,
        'content-type': 'application/json',
        'idempotency-key': nonce,
      },
      body: JSON.stringify({ tenant, room: `user:${sub}`, event: 'helm.test', data: { nonce } }),
    }).catch((err) => fail(`cannot reach ${publisherUrl}: ${err.message}`));
    if (res.status !== 202) fail(`publisher answered ${res.status}: ${await res.text()}`);
    console.log(`published ${JSON.stringify(await res.json())}`);
  } else if (msg.type === 'notification' && msg.data?.nonce === nonce) {
    console.log(`delivered: id=${msg.id} seq=${msg.seq} latency=${Date.now() - msg.ts} ms`);
    clearTimeout(timer);
    process.exit(0);
  } else if (msg.type === 'error') {
    fail(`edge error ${msg.code}: ${msg.message}`);
  }
});
