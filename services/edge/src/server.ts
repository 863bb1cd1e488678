import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import uWS, { type TemplatedApp, type us_listen_socket } from 'uWebSockets.js';
import { createAuthenticator, type Authenticator } from './auth.js';
import type { Bus } from './bus/bus.js';
import { NatsBus } from './bus/nats.js';
import type { EdgeConfig } from './config.js';
import { Gateway } from './gateway.js';
import { Hub } from './hub.js';
import { traceDelivery } from './tracing.js';
import { tenantOfSubject } from '@herald/protocol';
import { startInternalServer } from './internal.js';
import type { Logger } from './logger.js';
import { createMetrics, type EdgeMetrics } from './metrics.js';
import { JetStreamHistory } from './jetstream-history.js';
import { OutageRecovery } from './outage.js';
import { Resumer, type History } from './resume.js';
import { RevocationList } from './revocations.js';
import { KvTicketStore, LazyTicketStore, MemoryTicketStore, type TicketStore } from './tickets.js';
import { registerTicketRoute } from './transports/tickets.js';
import { SseTransport } from './transports/sse.js';
import { WsTransport } from './transports/ws.js';
import { writeError } from './transports/http.js';

export interface Edge {
  readonly config: EdgeConfig;
  readonly app: TemplatedApp;
  readonly gateway: Gateway;
  readonly hub: Hub;
  readonly metrics: EdgeMetrics;
  readonly ws: WsTransport;
  readonly sse: SseTransport;
  readonly bus: Bus;
  readonly log: Logger;
  readonly resumer: Resumer;
  readonly revocations: RevocationList;
  readonly outage: OutageRecovery;
  /** Public port actually bound (useful with port 0). */
  port: number;
  internalPort: number;
  listenSocket: us_listen_socket | undefined;
  internal: Server | undefined;
  ready(): boolean;
}

export interface EdgeDeps {
  bus: Bus;
  log: Logger;
  authenticator?: Authenticator;
  /** Extra routes on the public app (demo page), added before the catch-all. */
  routes?: (app: TemplatedApp, edge: Edge) => void;
  /** Where resume replays from; default: the JetStream stream when the bus is NATS. */
  history?: History;
  /** One-time tickets; default: a NATS KV bucket when the bus is NATS, else in memory. */
  tickets?: TicketStore;
}

/** How long revocations stay in the KV bucket at most (the publisher caps `expires_in_s` to it). */
export const REVOCATION_TTL_MS = 7 * 24 * 3600 * 1000;

/** Build the edge: public uWS app (WS + SSE) and internal probes/metrics. Nothing listens until start(). */
export function createEdge(config: EdgeConfig, deps: EdgeDeps): Edge {
  const metrics = createMetrics(config);
  const log = deps.log;
  const app = uWS.App();
  let ws: WsTransport | undefined;
  let sse: SseTransport | undefined;
  const hub = new Hub(
    deps.bus,
    {
      publishWs: (subject, text) => ws!.publish(subject, text),
      publishSse: (subject, text, seq) => sse!.publish(subject, text, seq),
    },
    metrics,
    log.child({ component: 'hub' }),
    config.unsubscribeDelayMs,
    {
      ...(config.tracing ? { delivered: (m, n) => traceDelivery(m, n, config.subjectPrefix) } : {}),
      tenantOf: (subject) => tenantOfSubject(config.subjectPrefix, subject),
    },
  );
  const revocations = new RevocationList(log.child({ component: 'revocations' }));
  const gateway = new Gateway(config, deps.authenticator ?? createAuthenticator(config.jwt), hub, metrics, log.child({ component: 'gateway' }), revocations);
  const nc = deps.bus instanceof NatsBus ? deps.bus.nc : undefined;
  const history = deps.history ?? (nc ? new JetStreamHistory(nc, config.streamName, config.subjectPrefix) : undefined);
  const flushBus = () => deps.bus.flush();
  const resumeLog = log.child({ component: 'resume' });
  const resumer = new Resumer(history, hub, { maxMessages: config.resumeMaxMessages, concurrency: config.resumeConcurrency, queueMax: config.resumeQueueMax }, metrics, resumeLog);
  gateway.resumer = resumer;
  gateway.tickets = deps.tickets ?? (nc ? undefined : new MemoryTicketStore(config.ticketTtlS * 1000));
  const outage = new OutageRecovery(history, hub, () => gateway.conns, { maxOutageS: config.natsOutageMaxS, maxMessages: config.resumeMaxMessages }, resumeLog, flushBus);
  revocations.listen(deps.bus, config.subjectPrefix);
  ws = new WsTransport(app, gateway);
  sse = new SseTransport(app, gateway);
  registerTicketRoute(app, gateway);
  const edge: Edge = {
    config,
    app,
    gateway,
    hub,
    metrics,
    ws,
    sse,
    bus: deps.bus,
    log,
    resumer,
    revocations,
    outage,
    port: 0,
    internalPort: 0,
    listenSocket: undefined,
    internal: undefined,
    ready: () => edge.listenSocket !== undefined && deps.bus.isConnected() && !gateway.draining,
  };
  deps.routes?.(app, edge);
  app.any('/*', (res) => {
    res.cork(() => writeError(res, 'NOT_FOUND'));
  });
  const updateBus = () => {
    metrics.natsConnected.set(deps.bus.isConnected() ? 1 : 0);
    metrics.ready.set(edge.ready() ? 1 : 0);
  };
  deps.bus.onStatus((status) => {
    if (status === 'disconnected') outage.disconnected();
    else if (status === 'connected') void outage.connected();
    updateBus();
  });
  updateBus();
  return edge;
}

/** Bind the internal then the public port. */
export async function startEdge(edge: Edge): Promise<void> {
  const { config } = edge;
  if (edge.bus instanceof NatsBus) {
    const nc = edge.bus.nc;
    // Before listening: an edge started after a revocation must already refuse the token.
    await edge.revocations.load(nc, config.revocationsBucket, REVOCATION_TTL_MS);
    if (!edge.gateway.tickets) {
      const open = () => KvTicketStore.open(nc, config.ticketsBucket, config.ticketTtlS);
      edge.gateway.tickets = (await open()) ?? new LazyTicketStore(open);
    }
    try {
      const history = new JetStreamHistory(nc, config.streamName, config.subjectPrefix);
      // Where a NATS outage replay starts if nothing was delivered before it.
      edge.hub.noteSeq((await history.bounds()).last);
    } catch (err) {
      edge.log.warn({ err: String(err), stream: config.streamName }, 'stream not found yet; resume answers gap until it exists');
    }
  }
  edge.internal = await startInternalServer(config.host, config.internalPort, edge.metrics.registry, {
    live: () => true,
    ready: () => {
      const ok = edge.ready();
      edge.metrics.ready.set(ok ? 1 : 0);
      return ok;
    },
  });
  edge.internalPort = (edge.internal.address() as AddressInfo).port;
  await new Promise<void>((resolve, reject) => {
    edge.app.listen(config.host, config.port, (token) => {
      if (!token) return reject(new Error(`cannot listen on ${config.host}:${config.port}`));
      edge.listenSocket = token;
      edge.port = uWS.us_socket_local_port(token);
      resolve();
    });
  });
  edge.metrics.ready.set(edge.ready() ? 1 : 0);
  edge.log.info({ port: edge.port, internalPort: edge.internalPort, bus: edge.bus.kind }, 'edge listening');
}
