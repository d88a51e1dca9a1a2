import { spawn } from 'node:child_process';
import { createReadStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Dump, DumpResult } from './types.js';

/** A tool's failure keeps its whole output for the execution's engine output. */
const toolError = (message: string, engineOutput: string) => Object.assign(new Error(message), { engineOutput });

const lastLines = (text: string, n = 6) => text.trim().split('\n').slice(-n).join(' | ');

/** A credentials file only this user can read, for tools that must not see a password on argv. */
export function secretFile(tempDir: string, name: string, content: string): { path: string; remove: () => void } {
  mkdirSync(tempDir, { recursive: true, mode: 0o700 });
  const file = path.join(tempDir, `.${name}-${randomBytes(6).toString('hex')}`);
  writeFileSync(file, content, { mode: 0o600 });
  return { path: file, remove: () => rmSync(file, { force: true }) };
}

/**
 * Runs a dump tool: its stdout is the artifact, its stderr the engine output. Abort kills it
 * (SIGTERM, then SIGKILL); `finished` rejects with the tool's own last words when it fails.
 */
export function spawnDump(tool: string, args: string[], options: { env?: NodeJS.ProcessEnv; signal: AbortSignal; cleanup?: () => void }): Dump {
  const name = path.basename(tool);
  const child = spawn(tool, args, { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-200_000)));
  const kill = () => {
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  };
  if (options.signal.aborted) kill();
  options.signal.addEventListener('abort', kill, { once: true });
  const finished = new Promise<DumpResult>((resolve, reject) => {
    child.on('error', (e) => reject(toolError(`${name} could not start: ${e.message}`, stderr)));
    child.on('close', (code, signal) => {
      options.signal.removeEventListener('abort', kill);
      options.cleanup?.();
      if (code === 0) resolve({ engine_output: stderr });
      else {
        const why = options.signal.aborted ? 'stopped' : signal ? `killed by ${signal}` : lastLines(stderr) || `exit code ${code}`;
        reject(toolError(`${name} failed: ${why}`, stderr));
      }
    });
  });
  // The pipeline may fail first and never await this; its error is read there through `finished` anyway.
  finished.catch(() => undefined);
  return { stream: child.stdout, finished };
}

/**
 * Runs a restore tool to its end, optionally with a file on its stdin; resolves with its stderr (the
 * engine output). Abort kills it; a failure rejects with the tool's own last words.
 */
export function runTool(tool: string, args: string[], options: { env?: NodeJS.ProcessEnv; stdinFile?: string; signal: AbortSignal }): Promise<string> {
  options.signal.throwIfAborted();
  const name = path.basename(tool);
  const child = spawn(tool, args, { env: { ...process.env, ...options.env }, stdio: [options.stdinFile ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-200_000)));
  const kill = () => {
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  };
  options.signal.addEventListener('abort', kill, { once: true });
  // A file that cannot be read must not look like an empty restore that succeeded.
  let readError: Error | undefined;
  const source = options.stdinFile ? createReadStream(options.stdinFile) : undefined;
  if (source) {
    source.on('error', (e) => {
      readError = e;
      kill();
    });
    // A tool that dies mid-input breaks the pipe: its exit status says why, not the EPIPE.
    child.stdin!.on('error', () => undefined);
    source.pipe(child.stdin!);
  }
  return new Promise<string>((resolve, reject) => {
    child.on('error', (e) => reject(toolError(`${name} could not start: ${e.message}`, stderr)));
    child.on('close', (code, signal) => {
      options.signal.removeEventListener('abort', kill);
      source?.destroy();
      if (readError) return reject(toolError(`Could not read ${options.stdinFile}: ${readError.message}`, stderr));
      if (code === 0) return resolve(stderr);
      const why = options.signal.aborted ? 'stopped' : signal ? `killed by ${signal}` : lastLines(stderr) || `exit code ${code}`;
      reject(toolError(`${name} failed: ${why}`, stderr));
    });
  });
}
