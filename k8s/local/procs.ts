import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from './config.js';
import type { ProcessSpec } from './render.js';

/**
 * Detached processes tracked by pid files. A pid file holds the pid and the kernel's start
 * time of that process, so a pid the kernel has reused for something else is never signalled.
 */

export interface PidRecord {
  name: string;
  pid: number;
  /** /proc/<pid>/stat field 22 (start time in clock ticks since boot). */
  startTicks: number;
  command: string;
  startedAt: string;
}

export const pidFile = (stateDir: string, name: string) => join(stateDir, 'pids', `${name}.json`);
export const logFile = (stateDir: string, name: string) => join(stateDir, 'logs', `${name}.log`);

function startTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after the closing paren are fixed.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = rest[0];
    if (state === 'Z' || state === 'X') return undefined; // exited, not yet reaped
    return Number(rest[19]);
  } catch {
    return undefined;
  }
}

export function readPid(stateDir: string, name: string): PidRecord | undefined {
  const f = pidFile(stateDir, name);
  if (!existsSync(f)) return undefined;
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as PidRecord;
  } catch {
    return undefined;
  }
}

/** True when the recorded process still runs (same pid and same start time). */
export function isAlive(rec: PidRecord | undefined): rec is PidRecord {
  return rec !== undefined && startTicks(rec.pid) === rec.startTicks;
}

/** Start a spec detached from this process, output appended to .cluster/logs/<name>.log. */
export function startProcess(stateDir: string, spec: ProcessSpec): PidRecord {
  for (const [path, content] of Object.entries(spec.files)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
  const log = logFile(stateDir, spec.name);
  mkdirSync(dirname(log), { recursive: true });
  mkdirSync(dirname(pidFile(stateDir, spec.name)), { recursive: true });
  const fd = openSync(log, 'a');
  writeFileSync(fd, `\n==> ${new Date().toISOString()} starting ${spec.name}: ${spec.command} ${spec.args.join(' ')}\n`);
  const child = spawn(spec.command, spec.args, {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...spec.env },
  });
  closeSync(fd);
  child.unref();
  if (child.pid === undefined) throw new Error(`${spec.name}: could not start ${spec.command}`);
  const ticks = startTicks(child.pid);
  const rec: PidRecord = {
    name: spec.name,
    pid: child.pid,
    startTicks: ticks ?? -1,
    command: `${spec.command} ${spec.args.join(' ')}`,
    startedAt: new Date().toISOString(),
  };
  writeFileSync(pidFile(stateDir, spec.name), `${JSON.stringify(rec)}\n`);
  return rec;
}

/** SIGTERM (then SIGKILL after `timeoutMs`) the recorded process; removes its pid file. */
export async function stopProcess(stateDir: string, name: string, timeoutMs: number): Promise<'stopped' | 'killed' | 'not running'> {
  const rec = readPid(stateDir, name);
  let result: 'stopped' | 'killed' | 'not running' = 'not running';
  if (isAlive(rec)) {
    process.kill(rec.pid, 'SIGTERM');
    result = (await waitUntil(() => !isAlive(rec), timeoutMs)) ? 'stopped' : 'killed';
    if (result === 'killed') {
      process.kill(rec.pid, 'SIGKILL');
      await waitUntil(() => !isAlive(rec), 5_000);
    }
  }
  rmSync(pidFile(stateDir, name), { force: true });
  return result;
}

export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** GET a URL; the status code, or undefined when nothing answers. */
export async function httpStatus(url: string, timeoutMs = 1_000): Promise<number | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return undefined;
  }
}

/** The last lines of a process's log, for error messages. */
export function tail(stateDir: string, name: string, lines = 20): string {
  try {
    return readFileSync(logFile(stateDir, name), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
