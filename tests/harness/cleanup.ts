// Everything the harness creates (temp folders, server processes) is recorded
// here so that a test which forgets to stop a server, or a run cut short by
// Ctrl-C, still leaves no process or folder behind.
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { osUser } from './os-user.js';

/** Something that must be ended synchronously if the process exits first. */
export interface ExitHook {
  (): void;
}

const dirs = new Set<string>();
const hooks = new Set<ExitHook>();
let installed = false;

function cleanUpNow(): void {
  for (const hook of hooks) {
    try {
      hook();
    } catch {
      // exiting anyway: one stuck resource must not keep the others around
    }
  }
  hooks.clear();
  for (const dir of dirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // same as above
    }
  }
  dirs.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  cleanUpNow();
  process.removeListener(signal, onSignal);
  // Re-raise so the exit status still says which signal ended the run.
  process.kill(process.pid, signal);
}

function installOnce(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanUpNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, onSignal);
}

export function onExit(hook: ExitHook): () => void {
  installOnce();
  hooks.add(hook);
  return () => hooks.delete(hook);
}

export interface TempDirOptions {
  /** OS user that must own the folder (a server that drops to that user writes into it). */
  owner?: string;
  /** Permission bits; default 0o700. */
  mode?: number;
}

/**
 * Makes a fresh folder that is removed when the process exits, unless
 * `removeTempDir` removed it earlier. A folder for another OS user goes under
 * /tmp, because that user must be able to walk every parent folder to reach it.
 */
export async function tempDir(prefix = 'dg-test-', options: TempDirOptions = {}): Promise<string> {
  installOnce();
  const base = options.owner ? '/tmp' : tmpdir();
  const dir = mkdtempSync(join(base, prefix));
  dirs.add(dir);
  chmodSync(dir, options.mode ?? 0o700);
  if (options.owner) {
    const user = osUser(options.owner);
    chownSync(dir, user.uid, user.gid);
  }
  return dir;
}

export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  dirs.delete(dir);
}

/** A stop that runs once: later calls wait for the first. */
export function stopOnce(stop: () => Promise<void>): () => Promise<void> {
  let stopped: Promise<void> | undefined;
  return () => (stopped ??= stop());
}
