import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface InternalEndpoints {
  readonly registry: Registry;
  /** True while the publisher can store notifications and is not draining. */
  readonly ready: () => boolean;
}

/**
 * The internal port: /livez, /readyz, /metrics. A plain http server, kept off the
 * public port so that probes and scrapes never compete with, or leak through, the API.
 */
export function createInternalServer(e: InternalEndpoints): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    switch (path) {
      case '/livez':
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        return;
      case '/readyz': {
        const ok = e.ready();
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ready\n' : 'not ready\n');
        return;
      }
      case '/metrics':
        e.registry
          .metrics()
          .then((text) => res.writeHead(200, { 'content-type': e.registry.contentType }).end(text))
          .catch(() => res.writeHead(500).end());
        return;
      default:
        res.writeHead(404).end();
    }
  });
}
