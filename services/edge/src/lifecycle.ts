import uWS from 'uWebSockets.js';
import type { Edge } from './server.js';

export interface ShutdownOptions {
  /** Called at the very end (tests pass a no-op; main passes process.exit). */
  exit: (code: number) => void;
  /** Extra flush step (telemetry). */
  flush?: () => Promise<void>;
}

/**
 * The drain sequence, idempotent: not ready → wait DRAIN_DELAY_S (endpoints update)
 * → close the listen socket → close connections with SHUTDOWN in paced batches with
 * jitter over DRAIN_WINDOW_S (no reconnect storm on the other pods) → drain NATS →
 * flush telemetry → exit. A watchdog exits with 1 past SHUTDOWN_TIMEOUT_S.
 */
export function makeShutdown(edge: Edge, opts: ShutdownOptions): (reason: string) => Promise<void> {
  let running: Promise<void> | undefined;
  return (reason: string) => {
    running ??= run(reason);
    return running;
  };

  async function run(reason: string): Promise<void> {
    const { config, gateway, metrics, log } = edge;
    const started = Date.now();
    const watchdog = setTimeout(() => {
      log.error({ timeoutS: config.shutdownTimeoutS }, 'shutdown watchdog fired; exiting');
      opts.exit(1);
    }, config.shutdownTimeoutS * 1000);
    log.info({ reason, connections: gateway.conns.size }, 'drain started');
    gateway.draining = true;
    metrics.draining.set(1);
    metrics.ready.set(0);
    metrics.drains.inc();
    await sleep(config.drainDelayS * 1000);
    if (edge.listenSocket) {
      uWS.us_listen_socket_close(edge.listenSocket);
      edge.listenSocket = undefined;
    }
    await closeInBatches(edge, config.drainWindowS * 1000);
    edge.ws.stop();
    edge.sse.stop();
    gateway.stop();
    edge.hub.close();
    try {
      await edge.bus.drain();
    } catch (err) {
      log.warn({ err: String(err) }, 'bus drain failed');
    }
    if (opts.flush) await opts.flush().catch((err: unknown) => log.warn({ err: String(err) }, 'telemetry flush failed'));
    await new Promise<void>((r) => (edge.internal ? edge.internal.close(() => r()) : r()));
    clearTimeout(watchdog);
    log.info({ ms: Date.now() - started }, 'drain complete');
    opts.exit(0);
  }
}

/** Close every connection with SHUTDOWN, spread over `windowMs` in ~20 batches, each jittered. */
async function closeInBatches(edge: Edge, windowMs: number): Promise<void> {
  const conns = [...edge.gateway.conns];
  if (conns.length === 0) return;
  const batches = windowMs <= 0 ? 1 : Math.min(conns.length, Math.max(1, Math.floor(windowMs / 100)));
  const size = Math.ceil(conns.length / batches);
  const step = windowMs / batches;
  for (let i = 0; i < conns.length; i += size) {
    for (const conn of conns.slice(i, i + size)) {
      if (!conn.closed) {
        conn.closeReason = 'shutdown';
        conn.ops.end(conn, 'SHUTDOWN');
      }
    }
    if (i + size < conns.length) await sleep(step * (0.5 + Math.random()));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
