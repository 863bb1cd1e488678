/**
 * Baseline for the edge benchmark: the least a uWS.js server can do for the same
 * job (every socket subscribed to one topic, one app.publish per message), no auth,
 * no JSON, no bus. Publishes `count` copies of `payload` when told over IPC.
 */
import uWS from 'uWebSockets.js';

const app = uWS.App();
app.ws('/ws', {
  compression: uWS.DISABLED,
  maxPayloadLength: 16 * 1024,
  idleTimeout: 60,
  sendPingsAutomatically: true,
  maxBackpressure: 8 * 1024 * 1024,
  open: (ws) => {
    ws.subscribe('room');
  },
});
app.listen('127.0.0.1', 0, (token) => {
  process.send!({ cmd: 'listening', port: uWS.us_socket_local_port(token) });
});
process.on('message', (msg: { cmd: string; body?: string }) => {
  if (msg.cmd === 'publish' && msg.body) app.publish('room', msg.body, false, false);
});
