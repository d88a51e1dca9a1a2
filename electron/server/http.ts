import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { AppError, HTTP_STATUS, type AppErrorShape, type Result } from '../../shared/errors.js';
import type { Core } from '../core/app.js';
import { scoped } from '../core/kernel/log.js';
import { LOGIN_PAGE, Login } from './auth.js';
import { matchRoute, restRoutes } from './routes.js';
import { serveStatic } from './static-files.js';

const log = scoped('http');
const MAX_BODY = 1024 * 1024;

export interface ServerOptions {
  host: string;
  port: number;
  /** The built renderer (dist/renderer); without it only the API is served. */
  staticDir?: string;
  /** Required for any bind other than loopback. */
  password?: string;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

const isLoopback = (host: string) => host === '127.0.0.1' || host === '::1' || host === 'localhost';

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
  res.end(json);
}

const fail = (res: ServerResponse, error: AppErrorShape) => send(res, HTTP_STATUS[error.code], { ok: false, error });

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('Request body is larger than 1 MB');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  return text ? JSON.parse(text) : {};
}

/**
 * A request from a web page of another origin must not drive the API (it could reach 127.0.0.1):
 * bodies must be JSON (a cross-site form cannot send that without a preflight we never allow), and an
 * Origin, when present, must be this server.
 */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** The headless transport: the contract over HTTP (RPC + the seed's REST routes), SSE events, the UI. */
export async function startHttpServer(core: Core, options: ServerOptions): Promise<RunningServer> {
  if (!isLoopback(options.host) && !options.password) {
    throw new Error(`Refusing to listen on ${options.host} without a login: set DG_PASSWORD (only this machine can reach 127.0.0.1 without one).`);
  }
  const login = options.password ? new Login(options.password) : undefined;
  const routes = restRoutes();
  const streams = new Set<ServerResponse>();

  const unsubscribe = core.events.onAny((name, payload) => {
    const frame = `event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`;
    for (const res of streams) res.write(frame);
  });
  const heartbeat = setInterval(() => {
    for (const res of streams) res.write(': ping\n\n');
  }, 25_000);
  heartbeat.unref();

  async function answer(res: ServerResponse, channel: string, input: unknown, okStatus: number, envelope: boolean) {
    const result: Result<unknown> = await core.dispatch(channel, input);
    if (!result.ok) return fail(res, result.error);
    send(res, okStatus, envelope ? result : result.data);
  }

  /** The joined backup file, streamed; each part's SHA-256 is checked on the way. */
  async function sendArtifact(res: ServerResponse, executionId: string) {
    let artifact;
    try {
      artifact = await core.openArtifact(executionId);
    } catch (e) {
      if (e instanceof AppError) return fail(res, e.toJSON());
      throw e;
    }
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(artifact.size),
      'Content-Disposition': `attachment; filename="${artifact.fileName}"`,
    });
    await pipeline(artifact.stream, res).catch((e: Error) => {
      log.warn(`download of ${executionId} stopped: ${e.message}`);
      res.destroy(e);
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const { pathname } = url;
    const method = req.method ?? 'GET';
    const isApi = pathname.startsWith('/api/') || pathname === '/health';

    if (isApi && !sameOrigin(req)) return fail(res, { code: 'unauthorized', message: 'Cross-origin requests are not allowed' });
    if (isApi && method !== 'GET' && method !== 'DELETE' && !(req.headers['content-type'] ?? '').includes('application/json')) {
      return fail(res, { code: 'validation_error', message: 'Send the body as JSON (Content-Type: application/json)' });
    }

    if (login) {
      if (pathname === '/api/auth/login' && method === 'POST') {
        const body = (await readJson(req)) as { password?: unknown };
        if (typeof body.password === 'string' && login.check(body.password)) {
          return send(res, 200, { ok: true, data: { signed_in: true } }, { 'Set-Cookie': login.open().cookie });
        }
        return fail(res, { code: 'unauthorized', message: 'Wrong password' });
      }
      if (pathname !== '/health' && !login.isSignedIn(req)) {
        if (isApi) return fail(res, { code: 'unauthorized', message: 'Sign in first' });
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        return void res.end(LOGIN_PAGE);
      }
    }

    if (pathname === '/api/events' && method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
      res.write('retry: 3000\n\n');
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }

    if (pathname.startsWith('/api/rpc/') && method === 'POST') {
      return answer(res, pathname.slice('/api/rpc/'.length), await readJson(req), 200, true);
    }

    const download = /^\/api\/executions\/([0-9a-f-]{36})\/download$/.exec(pathname);
    if (download && method === 'GET') return sendArtifact(res, download[1]!);

    const match = matchRoute(routes, method, pathname);
    if (match) {
      const body = method === 'GET' || method === 'DELETE' ? {} : await readJson(req);
      const query = Object.fromEntries(url.searchParams);
      const input = { ...query, ...(body && typeof body === 'object' ? body : {}), ...match.params };
      return answer(res, match.route.channel, input, match.route.status, false);
    }

    if (isApi) return fail(res, { code: 'not_found', message: `No route for ${method} ${pathname}` });
    if ((method === 'GET' || method === 'HEAD') && options.staticDir && serveStatic(options.staticDir, pathname, res)) return;
    fail(res, { code: 'not_found', message: 'Not found' });
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: Error) => {
      const message = e instanceof SyntaxError ? 'The body is not valid JSON' : e.message;
      log.warn(`${req.method} ${req.url}: ${message}`);
      if (!res.headersSent) fail(res, { code: e instanceof SyntaxError || message.includes('1 MB') ? 'validation_error' : 'internal', message });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${shownHost}:${port}`,
    async close() {
      clearInterval(heartbeat);
      unsubscribe();
      for (const res of streams) res.end();
      streams.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
