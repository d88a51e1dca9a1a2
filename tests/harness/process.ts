import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { onExit } from './cleanup.js';
import { osUser } from './os-user.js';

export interface RunOptions {
  /** Run as this OS user instead of root (servers refuse to run as root). */
  user?: string;
  /** Written to the command's standard input: how secrets reach a command, never argv. */
  input?: string;
  timeoutMs?: number;
}

function identity(userName: string | undefined): { uid?: number; gid?: number; env: NodeJS.ProcessEnv } {
  if (!userName) return { env: process.env };
  const user = osUser(userName);
  return {
    uid: user.uid,
    gid: user.gid,
    env: { ...process.env, HOME: user.home, USER: user.name, LOGNAME: user.name },
  };
}

/** Runs a short command to completion; throws with its output when it fails. */
export async function run(command: string, args: string[], options: RunOptions = {}): Promise<string> {
  const { uid, gid, env } = identity(options.user);
  const input = options.input;
  const child = spawn(command, args, { uid, gid, env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  if (child.stdin) {
    // A command that exits without reading its input must fail on its exit code, not on EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  }
  const timeoutMs = options.timeoutMs ?? 60_000;
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    if (code !== 0) {
      throw new Error(`${command} ${args.join(' ')} failed (exit ${code ?? 'killed'}):\n${summary(out)}`);
    }
    return out;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The error lines first, then the end of the output: tools like
 * mariadb-install-db print the real cause above a long boilerplate epilogue.
 */
export function summary(text: string, lines = 20): string {
  const all = text.trimEnd().split('\n');
  const last = all.slice(-lines);
  const errors = all
    .slice(0, -lines)
    .filter((line) => /error|fatal|denied|cannot|can't/i.test(line))
    .slice(-10);
  return [...errors, ...(errors.length ? ['...'] : []), ...last].join('\n');
}

export interface DaemonOptions {
  user?: string;
  /** Where the daemon's stdout and stderr go; read back for error messages. */
  logFile: string;
  /**
   * Signal for a clean, quick shutdown. PostgreSQL needs SIGINT: its SIGTERM
   * waits for every client to disconnect.
   */
  stopSignal?: NodeJS.Signals;
  /** Signal used when the test process exits without stopping the daemon. */
  exitSignal?: NodeJS.Signals;
}

/** A long-running server process whose output goes to a log file. */
export class Daemon {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  private exitCode: number | null | undefined;
  private spawnError: Error | undefined;
  private readonly forgetExitHook: () => void;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    private readonly options: DaemonOptions,
  ) {
    const { uid, gid, env } = identity(options.user);
    const fd = openSync(options.logFile, 'a', 0o600);
    try {
      this.child = spawn(command, args, { uid, gid, env, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    // A forgotten server must not keep the test process alive; the exit hook ends it.
    this.child.unref();
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code) => {
        this.exitCode = code;
        resolve();
      });
      this.child.once('error', (error) => {
        this.exitCode = -1;
        this.spawnError = error;
        resolve();
      });
    });
    const exitSignal = options.exitSignal ?? 'SIGKILL';
    this.forgetExitHook = onExit(() => {
      if (this.running && this.child.pid) process.kill(this.child.pid, exitSignal);
    });
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  logTail(lines = 30): string {
    try {
      return summary(readFileSync(this.options.logFile, 'utf8'), lines);
    } catch {
      return '(no log)';
    }
  }

  failure(reason: string): Error {
    const spawnError = this.spawnError ? ` (${this.spawnError.message})` : '';
    return new Error(`${this.name} failed: ${reason}${spawnError}.\nLast lines of its log:\n${this.logTail()}`);
  }

  /**
   * Polls `check` until it succeeds: a server is ready only when a real client
   * got through, not when its process merely exists.
   */
  async waitUntilReady(check: () => Promise<void>, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastError = 'no attempt yet';
    for (;;) {
      if (!this.running) throw this.failure(`it exited (code ${String(this.exitCode)}) before accepting connections`);
      try {
        await check();
        return;
      } catch (error) {
        lastError = error instanceof Error ? error.message : String(error);
      }
      if (Date.now() > deadline) {
        throw this.failure(`no connection after ${timeoutMs} ms; last attempt said: ${lastError}`);
      }
      await sleep(100);
    }
  }

  /** Asks the server to shut down, and kills it if it has not after `timeoutMs`. */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (this.running && this.child.pid) {
      this.child.kill(this.options.stopSignal ?? 'SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
      await this.exited;
      clearTimeout(timer);
    }
    this.forgetExitHook();
  }
}

/** True when the failure looks like another process took the port between freePort() and listen. */
export function isPortClash(error: unknown): boolean {
  const text = error instanceof Error ? error.message : String(error);
  return /address already in use|EADDRINUSE|could not bind|Do you already have another .* server running/i.test(text);
}

/**
 * Starts a server on a port from freePort(), trying again with a new port when
 * another process grabbed it in between.
 */
export async function withPortRetry<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= attempts || !isPortClash(error)) throw error;
    }
  }
}
