import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Json } from './app.js';

const CLI = path.resolve('dist/server/cli.js');

/** The headless server as a user starts it (`npm run serve`, built): a process of its own, on its data folder. */
export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** What it printed, both streams. */
  output(): string;
  rpc(channel: string, input?: unknown): Promise<Json>;
  http(method: string, route: string): Promise<{ status: number; body: Json }>;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export const TOKEN = 'instance-test-token-0123456789abcdef';

/** Starts `node dist/server/cli.js` on a data folder; `ready: false` does not wait for it to serve (a start that must fail). */
export function spawnServer(dataDir: string, port: number): { child: ChildProcess; output(): string; exited: Promise<number | null> } {
  assert.ok(existsSync(CLI), `${CLI} is missing: run npm run build first (npm test does)`);
  const child = spawn(process.execPath, [CLI, '--port', String(port)], {
    env: { ...process.env, DG_DATA_DIR: dataDir, DG_API_TOKEN: TOKEN, DATABASE_URL: undefined },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

export async function startServer(dataDir: string, port: number): Promise<ServerProcess> {
  const { child, output, exited } = spawnServer(dataDir, port);
  const started = Date.now();
  while (!/DataGuardian is running at (\S+)\/\?token=/.test(output())) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}): ${output()}`);
    if (Date.now() - started > 120_000) throw new Error(`the server did not start: ${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = /DataGuardian is running at (\S+)\/\?token=/.exec(output())![1]!;
  const call = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(url + route, {
      method,
      headers: { Authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Json) : undefined };
  };
  return {
    child,
    url,
    output,
    exited,
    async rpc(channel, input = {}) {
      const { body } = await call('POST', `/api/rpc/${channel}`, input);
      assert.ok(body?.ok, `${channel}: ${JSON.stringify(body)}`);
      return body.data;
    },
    http: (method, route) => call(method, route),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
