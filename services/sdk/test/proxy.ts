import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP reverse proxy that refuses WebSocket upgrades, like a corporate proxy or a
 * load balancer without WebSocket support. Records the requests it forwards.
 */
export class NoWebSocketProxy {
  readonly requests: Array<{ method: string; url: string; headers: IncomingHttpHeaders; status?: number }> = [];
  upgradesRefused = 0;
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: () => number): Promise<NoWebSocketProxy> {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const proxy = new NoWebSocketProxy(server, (server.address() as AddressInfo).port);
    server.on('request', (req, res) => {
      const record: (typeof proxy.requests)[number] = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers };
      proxy.requests.push(record);
      const up = request({ host: '127.0.0.1', port: target(), method: req.method, path: req.url, headers: req.headers, agent: false }, (r) => {
        record.status = r.statusCode;
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('bad gateway');
      });
      res.on('close', () => up.destroy());
      req.pipe(up);
    });
    server.on('upgrade', (_req, socket) => {
      proxy.upgradesRefused++;
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    });
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** SSE requests the edge accepted. */
  sse(): Array<{ url: string; headers: IncomingHttpHeaders }> {
    return this.requests.filter((r) => r.url.startsWith('/sse') && r.status === 200);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
