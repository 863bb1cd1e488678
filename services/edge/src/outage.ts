import type { Conn } from './gateway.js';
import type { Hub } from './hub.js';
import type { Logger } from './logger.js';
import { isStreamNotFound, type History } from './resume.js';

export interface OutageSettings {
  readonly maxOutageS: number;
  readonly maxMessages: number;
}

/**
 * An edge that loses NATS keeps its client sockets. While disconnected the hub holds
 * whatever arrives; on reconnect this replays what the pod's subjects missed since
 * the last delivered sequence, then releases the held messages (skipping what was
 * replayed) and goes live. Past the bounds (outage too long, too many missed, stream
 * no longer holding them) it closes the affected connections with SHUTDOWN so they
 * reconnect and resume on their own. Never a silent loss.
 */
export class OutageRecovery {
  private downSince: number | undefined;
  private fromSeq = 0;
  private recovering: Promise<void> | undefined;

  constructor(
    private readonly history: History | undefined,
    private readonly hub: Hub,
    private readonly conns: () => Iterable<Conn>,
    private readonly settings: OutageSettings,
    private readonly log: Logger,
    private readonly flushBus: () => Promise<void>,
  ) {}

  disconnected(): void {
    if (this.downSince !== undefined) return;
    this.downSince = Date.now();
    this.fromSeq = this.hub.lastDeliveredSeq;
    this.hub.hold();
  }

  connected(): Promise<void> {
    if (this.downSince === undefined) return Promise.resolve();
    this.recovering ??= this.recover().finally(() => (this.recovering = undefined));
    return this.recovering;
  }

  private async recover(): Promise<void> {
    const down = this.downSince!;
    const outageMs = Date.now() - down;
    const subjects = this.hub.subjects();
    let closeAll = outageMs > this.settings.maxOutageS * 1000 ? `outage of ${outageMs} ms exceeds ${this.settings.maxOutageS} s` : undefined;
    if (!closeAll && subjects.length > 0 && this.history) {
      try {
        await this.flushBus();
        const b = await this.history.bounds().catch((err: unknown) => {
          // No stream at all: nothing was stored, so nothing can have been missed.
          if (isStreamNotFound(err)) return undefined;
          throw err;
        });
        if (!b) this.log.warn('no stream to replay the NATS outage from; nothing can have been stored');
        else if (this.fromSeq + 1 < b.first) closeAll = `stream no longer holds sequence ${this.fromSeq + 1}`;
        else {
          let n = 0;
          if (this.fromSeq < b.last) {
            // Many rooms: one read of everything stored during the outage beats a request per room.
            const plan =
              subjects.length > 16 && this.history.scan
                ? await this.history.scan(this.fromSeq, this.settings.maxMessages, b.last)
                : await this.history.replay(subjects, this.fromSeq, this.settings.maxMessages, b.last);
            if (plan.kind === 'overflow') closeAll = `${plan.pending} missed notifications exceed ${this.settings.maxMessages}`;
            else
              for await (const m of plan.messages) {
                if (this.hub.members(m.subject) === 0) continue;
                this.hub.inject(m.subject, m.text, m.seq);
                n++;
              }
          }
          if (!closeAll) this.log.info({ replayed: n, outageMs }, 'replayed notifications missed during the NATS outage');
        }
      } catch (err) {
        closeAll = `replay after outage failed: ${String(err)}`;
      }
    } else if (!closeAll && subjects.length > 0) {
      closeAll = 'no history to replay from';
    }
    this.downSince = undefined;
    if (closeAll) {
      this.log.warn({ reason: closeAll, outageMs }, 'closing connections so that they resume');
      this.hub.release(Number.MAX_SAFE_INTEGER);
      for (const c of [...this.conns()]) {
        if (c.closed || c.subjects.length === 0) continue;
        c.closeReason = 'nats_outage';
        c.ops.end(c, 'SHUTDOWN');
      }
      return;
    }
    this.hub.release();
  }
}
