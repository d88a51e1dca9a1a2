import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

const lastLines = (text: string, n = 6) => text.trim().split('\n').slice(-n).join(' | ');

/**
 * Runs a restore tool to its end, optionally feeding a file on stdin. Abort kills it; a failure
 * rejects with the tool's own last words, and the whole output rides along as `engineOutput`.
 */
export async function runTool(tool: string, args: string[], o: { env?: NodeJS.ProcessEnv; stdinFile?: string; signal: AbortSignal }): Promise<string> {
  const name = path.basename(tool);
  const child = spawn(tool, args, { env: { ...process.env, ...o.env }, stdio: [o.stdinFile ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer) => (output = (output + d.toString('utf8')).slice(-200_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const kill = () => {
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  };
  if (o.signal.aborted) kill();
  o.signal.addEventListener('abort', kill, { once: true });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', (e) => reject(Object.assign(new Error(`${name} could not start: ${e.message}`), { engineOutput: output })));
    child.on('close', (code, signal) => {
      o.signal.removeEventListener('abort', kill);
      if (code === 0) return resolve();
      const why = o.signal.aborted ? 'stopped' : signal ? `killed by ${signal}` : lastLines(output) || `exit code ${code}`;
      reject(Object.assign(new Error(`${name} failed: ${why}`), { engineOutput: output }));
    });
  });
  // A tool that dies mid-input breaks the pipe: its exit says why, not the EPIPE.
  const fed = o.stdinFile ? pipeline(createReadStream(o.stdinFile), child.stdin!).catch(() => undefined) : Promise.resolve();
  await Promise.all([exited, fed]);
  return output;
}
