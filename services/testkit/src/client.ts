import WebSocket from 'ws';
import { waitFor } from './util.js';

export interface Received {
  type: string;
  [k: string]: unknown;
}

/**
 * A WebSocket test client that records every message and the close code, so tests
 * assert on what a real client saw.
 */
export class TestClient {
  readonly messages: Received[] = [];
  closeCode: number | undefined;
  closeReason = '';
  unexpectedStatus: number | undefined;
  readonly ws: WebSocket;
  private readonly opened: Promise<void>;

  constructor(url: string, opts: { headers?: Record<string, string>; origin?: string } = {}) {
    this.ws = new WebSocket(url, { headers: opts.headers, origin: opts.origin });
    this.ws.on('message', (d) => {
      try {
        this.messages.push(JSON.parse(d.toString()) as Received);
      } catch {
        this.messages.push({ type: '<unparseable>', raw: d.toString() });
      }
    });
    this.ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
    });
    this.ws.on('unexpected-response', (_req, res) => {
      this.unexpectedStatus = res.statusCode;
      this.closeCode = -1;
      res.resume();
    });
    this.ws.on('error', () => {
      /* recorded through close / unexpected-response */
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('close', () => reject(new Error(`closed before open (${this.closeCode ?? this.unexpectedStatus})`)));
      this.ws.once('unexpected-response', () => reject(new Error(`HTTP ${this.unexpectedStatus}`)));
    });
    this.opened.catch(() => undefined);
  }

  open(): Promise<void> {
    return this.opened;
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** Open, send the auth message, wait for welcome. */
  async auth(token: string, resume?: number): Promise<Received> {
    await this.open();
    this.send(resume === undefined ? { type: 'auth', token } : { type: 'auth', token, resume });
    return this.next('welcome');
  }

  of(type: string): Received[] {
    return this.messages.filter((m) => m.type === type);
  }

  notifications(): Received[] {
    return this.of('notification');
  }

  async next(type: string, timeoutMs = 5_000): Promise<Received> {
    return waitFor(() => this.messages.find((m) => m.type === type) ?? (this.closeCode !== undefined ? failClosed(this) : undefined), {
      timeoutMs,
      what: `${type} message`,
    });
  }

  async waitNotifications(n: number, timeoutMs = 5_000): Promise<Received[]> {
    await waitFor(() => this.notifications().length >= n, { timeoutMs, what: `${n} notifications (have ${this.notifications().length})` });
    return this.notifications();
  }

  async closed(timeoutMs = 5_000): Promise<number> {
    return waitFor(() => this.closeCode, { timeoutMs, what: 'close' });
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }
}

function failClosed(c: TestClient): never {
  throw new Error(`connection closed with ${c.closeCode} ${c.closeReason}`);
}
