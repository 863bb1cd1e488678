/**
 * Load-generator worker (forked by edge-bench.ts): opens its share of WebSocket
 * connections, authenticates each, then records delivery latency (now − envelope ts)
 * into a fixed-resolution histogram and counts messages. Talks to the parent over IPC.
 */
import WebSocket from 'ws';

interface Start {
  url: string;
  tokens: string[];
  /** Send `{"type":"auth"}` (Herald) or nothing (raw uWS baseline). */
  auth: boolean;
  localAddress: string;
}

const BUCKET_US = 100; // 0.1 ms resolution
const MAX_BUCKETS = 50_000; // up to 5 s
const hist = new Uint32Array(MAX_BUCKETS + 1);
let received = 0;
let open = 0;
let failed = 0;
const sockets: WebSocket[] = [];

function onMessage(data: WebSocket.RawData): void {
  const text = data.toString();
  const i = text.lastIndexOf('"ts":');
  if (i < 0) return;
  const ts = Number.parseInt(text.slice(i + 5, i + 25), 10);
  received++;
  const us = (Date.now() - ts) * 1000;
  hist[Math.min(MAX_BUCKETS, Math.max(0, Math.floor(us / BUCKET_US)))]!++;
}

async function connectAll(s: Start): Promise<void> {
  const batch = 200;
  for (let i = 0; i < s.tokens.length; i += batch) {
    await Promise.all(
      s.tokens.slice(i, i + batch).map(
        (token) =>
          new Promise<void>((resolve) => {
            const ws = new WebSocket(s.url, { localAddress: s.localAddress, perMessageDeflate: false });
            sockets.push(ws);
            ws.on('error', () => undefined);
            ws.once('close', () => {
              open--;
            });
            ws.once('open', () => {
              if (!s.auth) {
                open++;
                ws.on('message', onMessage);
                return resolve();
              }
              ws.send(JSON.stringify({ type: 'auth', token }));
              ws.once('message', (d) => {
                if (d.toString().includes('"welcome"')) open++;
                else failed++;
                ws.on('message', onMessage);
                resolve();
              });
            });
            ws.once('unexpected-response', () => {
              failed++;
              resolve();
            });
            ws.once('error', () => {
              failed++;
              resolve();
            });
          }),
      ),
    );
  }
}

process.on('message', (msg: { cmd: string; start?: Start }) => {
  if (msg.cmd === 'start' && msg.start) {
    void connectAll(msg.start).then(() => process.send!({ cmd: 'ready', open, failed }));
  } else if (msg.cmd === 'reset') {
    hist.fill(0);
    received = 0;
    process.send!({ cmd: 'reset-done' });
  } else if (msg.cmd === 'report') {
    process.send!({ cmd: 'report', received, open, hist: Array.from(hist) });
  } else if (msg.cmd === 'stop') {
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  }
});
