import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Dump, DumpResult } from './types.js';

/** A tool's failure keeps its whole output for the execution's engine output. */
const toolError = (message: string, engineOutput: string) => Object.assign(new Error(message), { engineOutput });

const lastLines = (text: string, n = 6) => text.trim().split('\n').slice(-n).join(' | ');

/**
 * A credentials file only this user can read, for tools that must not see a password on argv.
 * `tempDir` is the process's private folder (kernel/temp.ts); `wx` refuses a name that already exists.
 */
export function secretFile(tempDir: string, name: string, content: string): { path: string; remove: () => void } {
  const file = path.join(tempDir, `.${name}-${randomBytes(6).toString('hex')}`);
  writeFileSync(file, content, { mode: 0o600, flag: 'wx' });
  return { path: file, remove: () => rmSync(file, { force: true }) };
}

// What a tool needs from the app's environment to start and find its libraries, and nothing more:
// the app's own secrets (SECRET_KEY, DG_PASSWORD, DG_API_TOKEN, DATABASE_URL) and a shell's PG*/MYSQL_*
// settings (PGPASSWORD, PGSSLMODE, MYSQL_PWD…) that would change what the tool connects to stay out.
const INHERITED = new Set(['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LANGUAGE', 'TZ', 'LD_LIBRARY_PATH', 'DYLD_LIBRARY_PATH']);
const INHERITED_WINDOWS = new Set(['SYSTEMROOT', 'WINDIR', 'COMSPEC', 'PATHEXT', 'TEMP', 'TMP', 'USERPROFILE', 'APPDATA', 'LOCALAPPDATA', 'PROGRAMDATA']);

/** A child's environment: the allow-listed part of ours plus what the caller sets (PGPASSFILE…). */
export function toolEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    const k = key.toUpperCase();
    if (INHERITED.has(k) || k.startsWith('LC_') || (process.platform === 'win32' && INHERITED_WINDOWS.has(k))) env[key] = value;
  }
  return { ...env, ...extra };
}

/**
 * Starts a tool and watches it: abort kills it (SIGTERM, then SIGKILL); `exited` resolves with its
 * stderr (the engine output) or rejects with the tool's own last words.
 */
function supervise(
  tool: string,
  args: string[],
  stdin: 'pipe' | 'ignore',
  stdout: 'pipe' | 'ignore',
  options: { env?: NodeJS.ProcessEnv; signal: AbortSignal; onStderr?: (text: string) => void },
) {
  const name = path.basename(tool);
  const child = spawn(tool, args, { env: toolEnv(options.env), stdio: [stdin, stdout, 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    const text = d.toString('utf8');
    stderr = (stderr + text).slice(-200_000);
    options.onStderr?.(text);
  });
  const kill = () => {
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  };
  if (options.signal.aborted) kill();
  options.signal.addEventListener('abort', kill, { once: true });
  const exited = new Promise<string>((resolve, reject) => {
    child.on('error', (e) => reject(toolError(`${name} could not start: ${e.message}`, stderr)));
    child.on('close', (code, signal) => {
      options.signal.removeEventListener('abort', kill);
      if (code === 0) return resolve(stderr);
      const why = options.signal.aborted ? 'stopped' : signal ? `killed by ${signal}` : lastLines(stderr) || `exit code ${code}`;
      reject(toolError(`${name} failed: ${why}`, stderr));
    });
  });
  return { child, kill, exited };
}

/** Runs a dump tool: its stdout is the artifact, its stderr the engine output. */
export function spawnDump(tool: string, args: string[], options: { env?: NodeJS.ProcessEnv; signal: AbortSignal; cleanup?: () => void }): Dump {
  const { child, exited } = supervise(tool, args, 'ignore', 'pipe', options);
  const finished: Promise<DumpResult> = exited.finally(() => options.cleanup?.()).then((stderr) => ({ engine_output: stderr }));
  // The pipeline may fail first and never await this; its error is read there through `finished` anyway.
  finished.catch(() => undefined);
  // Node resumes a child's unread stdout when the child exits, dropping what it said: a small dump that ends
  // before the pipeline starts reading (an encrypter being made) would be stored empty. Piped at once, it is kept
  // (the pipe still holds a large dump back until it is read).
  const stream = new PassThrough({ highWaterMark: 1024 * 1024 });
  child.stdout!.pipe(stream);
  child.stdout!.on('error', (e) => stream.destroy(e));
  // A pipeline that stops reading (a storage failed) closes the tool's stdout, as reading it directly did: the tool
  // then ends with a broken pipe instead of waiting on a full one.
  stream.on('close', () => {
    if (!child.stdout!.readableEnded) child.stdout!.destroy();
  });
  return { stream, finished };
}

/**
 * Runs a tool to its end, optionally with a backup streamed into its stdin; resolves with its engine output.
 * A tool may stop reading early and succeed (pg_restore --list reads an archive's head): the rest is not read.
 * `onStderr` sees that output as it comes (pg_dump -j says which table is done).
 */
export async function runTool(
  tool: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; stdin?: Readable; signal: AbortSignal; onStderr?: (text: string) => void },
): Promise<string> {
  const source = options.stdin;
  if (options.signal.aborted) source?.destroy();
  options.signal.throwIfAborted();
  const { child, kill, exited } = supervise(tool, args, source ? 'pipe' : 'ignore', 'ignore', options);
  // A backup that cannot be read (or decoded) must not look like an empty restore that succeeded.
  let readError: Error | undefined;
  if (source) {
    source.on('error', (e) => {
      readError = e;
      kill();
    });
    // A tool that dies mid-input breaks the pipe: its exit status says why, not the EPIPE.
    child.stdin!.on('error', () => undefined);
    source.pipe(child.stdin!);
  }
  const outcome = await exited.then(
    (stderr) => ({ stderr, error: undefined }),
    (error: Error & { engineOutput: string }) => ({ stderr: error.engineOutput, error }),
  );
  source?.destroy();
  if (readError) throw toolError(`Could not read the backup: ${readError.message}`, outcome.stderr);
  if (outcome.error) throw outcome.error;
  return outcome.stderr;
}
