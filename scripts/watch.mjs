#!/usr/bin/env node
// Watch Herald notifications from a terminal: node scripts/watch.mjs ws <token> [url]
import WebSocket from 'ws';

const [, , transport, token, url = 'ws://127.0.0.1:8080/ws'] = process.argv;
if (transport !== 'ws' || !token) {
  process.stderr.write('usage: node scripts/watch.mjs ws <token> [ws://host:port/ws]\n');
  process.exit(2);
}
process.stdout.on('error', () => process.exit(0)); // e.g. piped into head
const ws = new WebSocket(url);
ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', token })));
ws.on('message', (data) => {
  const msg = JSON.parse(data.toString());
  const latency = msg.type === 'notification' ? ` (${Date.now() - msg.ts} ms)` : '';
  process.stdout.write(`${JSON.stringify(msg)}${latency}\n`);
});
ws.on('close', (code, reason) => {
  process.stdout.write(`closed ${code} ${reason}\n`);
  process.exit(code === 1000 ? 0 : 1);
});
ws.on('error', (err) => process.stderr.write(`${err.message}\n`));
