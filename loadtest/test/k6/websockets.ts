import { WebSocket as WsClient } from 'ws';
import { recorded } from './state.js';

type Listener = (e: { data?: unknown; error?: string; type: string }) => void;

export class WebSocket {
  private readonly ws: WsClient;
  constructor(url: string) {
    this.ws = new WsClient(url);
    recorded.openSockets++;
    this.ws.once('close', () => recorded.openSockets--);
    this.ws.on('error', () => undefined);
  }
  send(data: string): void {
    this.ws.send(data);
  }
  close(): void {
    this.ws.close();
  }
  addEventListener(event: 'open' | 'message' | 'error' | 'close', fn: Listener): void {
    if (event === 'message') this.ws.on('message', (d: Buffer) => fn({ type: 'message', data: d.toString() }));
    else if (event === 'error') this.ws.on('error', (err: Error) => fn({ type: 'error', error: err.message }));
    else this.ws.on(event, () => fn({ type: event }));
  }
}
