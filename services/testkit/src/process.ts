import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './util.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** A service process (edge, publisher) started with tsx, with its output captured for assertions. */
export class ServiceProcess {
  output = '';
  exitCode: number | null | undefined;
  signal: NodeJS.Signals | null | undefined;
  readonly proc: ChildProcess;
  private readonly exited: Promise<void>;

  constructor(entry: string, env: Record<string, string>, args: string[] = []) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', resolve(REPO_ROOT, entry), ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'test', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.proc.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((r) =>
      this.proc.once('exit', (code, signal) => {
        this.exitCode = code;
        this.signal = signal;
        r();
      }),
    );
  }

  /** Parsed JSON log lines. */
  logs(): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const line of this.output.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        /* partial line */
      }
    }
    return out;
  }

  async waitForLog(pred: (l: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    return waitFor(
      () => {
        if (this.exitCode !== undefined) throw new Error(`process exited (${this.exitCode}):\n${this.output.slice(-4000)}`);
        return this.logs().find(pred);
      },
      { timeoutMs, what: 'log line' },
    );
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  wait(): Promise<void> {
    return this.exited;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<void> {
    if (!this.running) return;
    this.proc.kill(signal);
    const t = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(t);
  }
}
