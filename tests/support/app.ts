import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { startCore, type Core, type CoreOptions } from '../../electron/core/app.js';
import type { Clock } from '../../electron/core/kernel/clock.js';
import { startHttpServer, type RunningServer } from '../../electron/server/http.js';
import { loadApiToken } from '../../electron/server/token.js';

/** A JSON answer as the API sends it: the tests read it loosely and assert on its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the one deliberate escape: the tests are the API's untyped clients
export type Json = any;

export interface HttpAnswer<T = Json> {
  status: number;
  body: T;
  text: string;
}

/** The real app (embedded PostgreSQL included) behind its real HTTP transport, in a fresh data dir. */
export interface AppUnderTest {
  url: string;
  dataDir: string;
  /** The API token the server requires; every request below sends it as `Authorization: Bearer`. */
  token: string;
  core: Core;
  /** Every answer's raw text, to check that no secret ever left the app. */
  transcript: string[];
  http<T = Json>(method: string, route: string, body?: unknown): Promise<HttpAnswer<T>>;
  rpc<T = Json>(channel: string, input?: unknown): Promise<HttpAnswer<T>>;
  /** A raw request with the token (downloads, event streams, bodies that are not JSON). */
  fetch(route: string, init?: RequestInit): Promise<Response>;
  /** Stop and start again on the same data directory. */
  restart(): Promise<void>;
  stop(options?: { keepData?: boolean }): Promise<void>;
}

export async function startApp(
  options: {
    dataDir?: string;
    databaseUrl?: string;
    clock?: Clock;
    delivery?: CoreOptions['delivery'];
    lease?: CoreOptions['lease'];
    /** The built page, for a browser (e2e). */
    staticDir?: string;
  } = {},
): Promise<AppUnderTest> {
  // Under /tmp with 0755: the embedded server runs as `postgres` when the tests run as root.
  const dataDir = options.dataDir ?? mkdtempSync(path.join('/tmp', 'dg-app-'));
  chmodSync(dataDir, 0o755);
  const transcript: string[] = [];
  let core: Core;
  let server: RunningServer;

  async function boot() {
    core = await startCore({
      mode: 'headless',
      dataDir,
      databaseUrl: options.databaseUrl,
      checkOutput: true,
      clock: options.clock,
      delivery: options.delivery,
      lease: options.lease,
    });
    // Read from the data directory as the CLI does (written there at first start, 0600).
    app.token = loadApiToken(dataDir, '').value;
    server = await startHttpServer(core, { host: '127.0.0.1', port: 0, token: app.token, staticDir: options.staticDir });
    app.url = server.url;
    app.core = core;
  }

  function authorizedFetch(route: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('Authorization', `Bearer ${app.token}`);
    return fetch(app.url + route, { ...init, headers });
  }

  async function http(method: string, route: string, body?: unknown): Promise<HttpAnswer> {
    const res = await authorizedFetch(route, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    transcript.push(text);
    return { status: res.status, body: text ? JSON.parse(text) : undefined, text };
  }

  const app: AppUnderTest = {
    url: '',
    dataDir,
    token: '',
    core: undefined as unknown as Core,
    transcript,
    http,
    fetch: authorizedFetch,
    rpc: (channel, input = {}) => http('POST', `/api/rpc/${channel}`, input),
    async restart() {
      await server.close();
      await core.close();
      await boot();
    },
    async stop({ keepData = false } = {}) {
      await server?.close();
      await core?.close();
      if (!keepData && !options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  await boot();
  return app;
}
