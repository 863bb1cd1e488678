import { createEdge, createLogger, makeShutdown, MemoryBus, startEdge, type Edge, type Logger } from '@herald/edge';
import { startPublisher, type Publisher, type RevocationSink } from '@herald/publisher';
import { controlSubject } from '@herald/protocol';
import { demoRoutes } from '@herald/edge';
import type { StandaloneConfig } from './config.js';
import { MemoryHistory, MemoryPublishBus } from './history.js';

export interface Standalone {
  readonly edge: Edge;
  readonly publisher: Publisher;
  readonly history: MemoryHistory;
  readonly bus: MemoryBus;
  /** `http://host:port` of the edge (WS `/ws`, SSE `/sse`, `/demo`). */
  readonly edgeUrl: string;
  /** `http://host:port` of the publisher API. */
  readonly publisherUrl: string;
  /** Stop both, idempotent: the publisher stops taking requests, then the edge drains. */
  stop(reason?: string): Promise<void>;
}

/** Edge and publisher in this process, on one in-memory bus and history ring. */
export async function startStandalone(config: StandaloneConfig, opts: { edgeLog?: Logger; publisherLog?: Logger } = {}): Promise<Standalone> {
  // One JSON log stream, each line tagged with the service it comes from, as when they run apart.
  const edgeLog = opts.edgeLog ?? createLogger(config.edge.logLevel, 'edge');
  const publisherLog = opts.publisherLog ?? createLogger(config.publisher.logLevel, 'publisher');
  const bus = new MemoryBus();
  const p = config.publisher;
  const history = new MemoryHistory(bus, {
    prefix: p.subjectPrefix,
    maxAgeS: p.stream.maxAgeS,
    maxBytes: config.history.maxBytes,
    maxMsgs: config.history.maxMsgs,
    duplicateWindowS: p.stream.duplicateWindowS,
  });
  // Revocations: the edge's list lives in this process and hears the broadcast on the bus (no KV needed).
  const revocations: RevocationSink = {
    revoke: (r) => bus.publish(controlSubject(p.subjectPrefix, 'revocations'), new TextEncoder().encode(JSON.stringify(r))),
  };
  const publisher = await startPublisher(p, { log: publisherLog, bus: () => new MemoryPublishBus(history), revocations });
  await publisher.ready;
  const host = (h: string) => (h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h);
  const publisherUrl = `http://${host(p.host)}:${publisher.ports.public}`;
  const edge = createEdge(config.edge, {
    bus,
    log: edgeLog,
    history,
    ...(config.edge.demo ? { routes: demoRoutes({ publisherUrl, publisherAudience: p.jwt.audience }) } : {}),
  });
  try {
    await startEdge(edge);
  } catch (err) {
    await publisher.close({ drainDelayS: 0 });
    throw err;
  }
  let stopping: Promise<void> | undefined;
  const drainEdge = makeShutdown(edge, { exit: () => undefined });
  return {
    edge,
    publisher,
    history,
    bus,
    edgeUrl: `http://${host(config.edge.host)}:${edge.port}`,
    publisherUrl,
    stop(reason = 'stop') {
      stopping ??= (async () => {
        await publisher.close({ drainDelayS: 0 });
        await drainEdge(reason);
      })();
      return stopping;
    },
  };
}
