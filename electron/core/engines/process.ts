import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Dump, DumpResult } from './types.js';

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
    child.on('error', (e) => reject(Object.assign(new Error(`${name} could not start: ${e.message}`), { engineOutput: stderr })));
    child.on('close', (code, signal) => {
      options.signal.removeEventListener('abort', kill);
      options.cleanup?.();
      if (code === 0) resolve({ engine_output: stderr });
      else {
        const why = options.signal.aborted ? 'stopped' : signal ? `killed by ${signal}` : lastLines(stderr) || `exit code ${code}`;
        reject(Object.assign(new Error(`${name} failed: ${why}`), { engineOutput: stderr }));
      }
    });
  });
  // The pipeline may fail first and never await this; its error is read there through `finished` anyway.
  finished.catch(() => undefined);
  return { stream: child.stdout, finished };
}
