import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from './util.js';
import { connect } from 'node:net';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Path of the pinned nats-server that `make tools` builds. */
export function natsServerPath(): string {
  const tools = process.env.HERALD_TOOLS ?? join(repoRoot, 'tools');
  const bin = join(tools, 'bin', 'nats-server');
  if (!existsSync(bin)) throw new Error(`nats-server not found at ${bin}: run \`make tools\` first`);
  return bin;
}

export interface NatsOptions {
  /** Enable JetStream (default true). */
  jetstream?: boolean;
  /** Extra configuration file text appended to the generated one (accounts, authorization, cluster…). */
  extraConfig?: string;
  /** Fixed port; default a free one. Kept across restart(). */
  port?: number;
}

/** A real nats-server process on loopback, with its own store directory. */
export class NatsServer {
  private proc: ChildProcess | undefined;
  private logs = '';
  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly confPath: string,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get output(): string {
    return this.logs;
  }

  static async start(opts: NatsOptions = {}): Promise<NatsServer> {
    const port = opts.port ?? (await freePort());
    const dir = mkdtempSync(join(tmpdir(), 'herald-nats-'));
    const conf = join(dir, 'nats.conf');
    const js = opts.jetstream ?? true;
    writeFileSync(
      conf,
      [
        `listen: 127.0.0.1:${port}`,
        js ? `jetstream { store_dir: "${join(dir, 'js')}", max_memory_store: 256MB, max_file_store: 1GB }` : '',
        opts.extraConfig ?? '',
      ].join('\n'),
    );
    const server = new NatsServer(port, dir, conf);
    await server.launch();
    return server;
  }

  private async launch(): Promise<void> {
    const proc = spawn(natsServerPath(), ['-c', this.confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.stdout?.on('data', (d: Buffer) => (this.logs += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (this.logs += d.toString()));
    let exited = false;
    proc.once('exit', () => (exited = true));
    await waitFor(
      async () => {
        if (exited) throw new Error(`nats-server exited during start:\n${this.logs}`);
        return (await canConnect(this.port)) && /Server is ready/.test(this.logs);
      },
      { timeoutMs: 15_000, what: 'nats-server ready' },
    );
  }

  /** Stop the server (SIGTERM, then SIGKILL). Keeps the store so restart() brings the stream back. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  async restart(): Promise<void> {
    await this.stop();
    this.logs = '';
    await this.launch();
  }

  /** Stop and remove the store. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolvePromise(true);
    });
    s.once('error', () => resolvePromise(false));
  });
}
