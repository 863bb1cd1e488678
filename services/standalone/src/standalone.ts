import { createEdge, createLogger, makeShutdown, MemoryBus, startEdge, type Edge, type Logger } from '@herald/edge';
import { startPublisher, type Publisher } from '@herald/publisher';
import { demoRoutes } from '../../edge/src/demo.js';
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
export async function startStandalone(config: StandaloneConfig, opts: { log?: Logger } = {}): Promise<Standalone> {
  const log = opts.log ?? createLogger(config.edge.logLevel, 'herald-standalone');
  const bus = new MemoryBus();
  const p = config.publisher;
  const history = new MemoryHistory(bus, {
    prefix: p.subjectPrefix,
    maxAgeS: p.stream.maxAgeS,
    maxBytes: config.history.maxBytes,
    maxMsgs: config.history.maxMsgs,
    duplicateWindowS: p.stream.duplicateWindowS,
  });
  const publisher = await startPublisher(p, { log: log.child({ service: 'publisher' }), bus: () => new MemoryPublishBus(history) });
  await publisher.ready;
  const host = (h: string) => (h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h);
  const publisherUrl = `http://${host(p.host)}:${publisher.ports.public}`;
  const edgeLog = log.child({ service: 'edge' });
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
