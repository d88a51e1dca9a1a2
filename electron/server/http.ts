import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { AppError, HTTP_STATUS, validationError, type AppErrorShape, type Result } from '../../shared/errors.js';
import { downloadInput } from '../../shared/schemas/encryption.js';
import { backupFileInput, backupTableInput } from '../../shared/schemas/toc.js';
import type { Core } from '../core/app.js';
import { scoped } from '../core/kernel/log.js';
import { Login, signInPage } from './auth.js';
import { readInput, Refusal } from './body.js';
import { allowedHosts, hostAllowed, sameOrigin } from './host-check.js';
import { FailureThrottle, type DelaySchedule } from './rate-limit.js';
import { httpChannel, matchRoute, restRoutes } from './routes.js';
import { serveStatic } from './static-files.js';
import { sameToken, tokenCookie, tokenOf } from './token.js';

const log = scoped('http');

export interface Limits {
  /** A larger request body gets 413. */
  maxBodyBytes: number;
  /** Open event streams at once; the next one gets 503 (each holds a socket and a subscription). */
  maxEventStreams: number;
  /** A client slower than this to send its headers, or its whole request, is cut off (slowloris). */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

const DEFAULT_LIMITS: Limits = { maxBodyBytes: 1024 * 1024, maxEventStreams: 32, headersTimeoutMs: 15_000, requestTimeoutMs: 60_000 };

export interface ServerOptions {
  host: string;
  port: number;
  /** The built renderer (dist/renderer); without it only the API is served. */
  staticDir?: string;
  /** Every request but `GET /health` and the sign-in page carries it (see token.ts), even on loopback. */
  token: string;
  /** Required for any bind other than loopback, with `tls`. */
  password?: string;
  /** More names the server answers to (--allowed-host, DG_ALLOWED_HOSTS), besides loopback and the bound address. */
  allowedHosts?: readonly string[];
  /** PEM certificate and key: the server speaks HTTPS, and its cookies are `Secure`. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  limits?: Partial<Limits>;
  /** How wrong passwords slow a client down (tests use a fast schedule). */
  loginDelays?: DelaySchedule;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

const isLoopback = (host: string) => host === '127.0.0.1' || host === '::1' || host === 'localhost';
const isWildcard = (host: string) => host === '0.0.0.0' || host === '::';

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
  res.end(json);
}

const fail = (res: ServerResponse, error: AppErrorShape) => send(res, HTTP_STATUS[error.code], { ok: false, error });
/** The one error shape, under the HTTP status that says why the transport itself refused (421, 413, 503...). */
const refuse = (res: ServerResponse, status: number, error: AppErrorShape, headers: Record<string, string> = {}) =>
  send(res, status, { ok: false, error }, headers);

/**
 * The headless transport: the contract over HTTP (RPC + the seed's REST routes), SSE events, the UI.
 * Every request passes, in order: the Host check (DNS rebinding), the Origin check (other web pages),
 * then the token (other local users and programs); only `GET /health` and the sign-in page skip the token.
 */
export async function startHttpServer(core: Core, options: ServerOptions): Promise<RunningServer> {
  if (!isLoopback(options.host) && !options.password) {
    throw new Error(`Refusing to listen on ${options.host} without a login: set DG_PASSWORD (only this machine can reach 127.0.0.1 without one).`);
  }
  if (!isLoopback(options.host) && !options.tls) {
    throw new Error(`Refusing to listen on ${options.host} without TLS: pass --tls-cert and --tls-key, or stay on 127.0.0.1 behind a proxy that does TLS.`);
  }
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const secure = Boolean(options.tls);
  const { token } = options;
  const login = options.password ? await Login.create(options.password, { secure }) : undefined;
  const throttle = new FailureThrottle(options.loginDelays);
  const hosts = allowedHosts(options.host, options.allowedHosts);
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

  /**
   * The joined backup file, streamed; each part's SHA-256 is checked on the way. As stored, or decrypted
   * (`?decrypt=true` with the app's key; POST with `{"identity": …}` for a key pasted for this download, which
   * never travels in an address, where proxies and histories keep it).
   */
  async function sendArtifact(res: ServerResponse, executionId: string, options: { decrypt?: boolean; identity?: string; file?: string; table?: string }) {
    let artifact;
    try {
      artifact =
        options.table !== undefined
          ? await core.openBackupTable(executionId, options.table)
          : options.file !== undefined
            ? await core.openBackupFile(executionId, options.file)
            : await core.openArtifact(executionId, options);
    } catch (e) {
      if (e instanceof AppError) return fail(res, e.toJSON());
      throw e;
    }
    res.writeHead(200, {
      'Content-Type': options.table !== undefined ? 'text/csv; charset=utf-8' : 'application/octet-stream',
      ...(artifact.size === null ? {} : { 'Content-Length': String(artifact.size) }),
      'Content-Disposition': contentDisposition(artifact.fileName),
      'Cache-Control': 'no-store',
    });
    await pipeline(artifact.stream, res).catch((e: Error) => {
      log.warn(`download of ${executionId} stopped: ${e.message}`);
      res.destroy(e);
    });
  }

  function showSignIn(res: ServerResponse, message?: string) {
    res.writeHead(401, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(signInPage({ password: Boolean(login), message }));
  }

  async function signInWithPassword(req: IncomingMessage, res: ServerResponse, current: Login) {
    const body = await readInput(req, limits.maxBodyBytes);
    const password = body && typeof body === 'object' && 'password' in body ? body.password : undefined;
    const outcome = await throttle.attempt(req.socket.remoteAddress ?? 'unknown', async () => typeof password === 'string' && (await current.check(password)));
    if (outcome === 'busy')
      return refuse(res, 429, { code: 'busy', message: 'Too many sign-in attempts at once: wait for the last one' }, { 'Retry-After': '5' });
    if (!outcome) return fail(res, { code: 'unauthorized', message: 'Wrong password' });
    send(res, 200, { ok: true, data: { signed_in: true } }, { 'Set-Cookie': current.open().cookie });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Parsed against a fixed base so that `//name/path` stays a path, never another host.
    const url = new URL(`http://localhost/${(req.url ?? '/').replace(/^\/+/, '')}`);
    const { pathname } = url;
    const method = req.method ?? 'GET';
    const isApi = pathname.startsWith('/api/') || pathname === '/health';
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('X-Content-Type-Options', 'nosniff');

    if (!hostAllowed(req, hosts)) {
      return refuse(res, 421, {
        code: 'unauthorized',
        message: 'DataGuardian does not answer to this host name: add it with --allowed-host or DG_ALLOWED_HOSTS',
      });
    }
    if (!sameOrigin(req)) return refuse(res, 403, { code: 'unauthorized', message: 'Requests from other web pages are not allowed' });

    const isGet = method === 'GET' || method === 'HEAD';
    const linkToken = url.searchParams.get('token');
    if (isGet && !isApi && linkToken !== null) {
      if (!sameToken(linkToken, token)) return showSignIn(res, 'That token is not this server’s.');
      // The cookie carries the token from now on; the address bar, history and any Referer lose it.
      url.searchParams.delete('token');
      res.writeHead(303, {
        Location: url.pathname + url.search,
        'Set-Cookie': tokenCookie(token, secure),
        'Cache-Control': 'no-store',
        'Referrer-Policy': 'no-referrer',
      });
      return void res.end();
    }
    if (login && pathname === '/api/auth/login' && method === 'POST') return signInWithPassword(req, res, login);

    const open = pathname === '/health' && isGet;
    if (!open && !sameToken(tokenOf(req), token) && !login?.isSignedIn(req)) {
      if (isApi) return fail(res, { code: 'unauthorized', message: 'Send the API token (Authorization: Bearer <token>), or sign in' });
      return showSignIn(res);
    }

    if (pathname === '/api/events' && method === 'GET') {
      if (streams.size >= limits.maxEventStreams) {
        return refuse(res, 503, { code: 'busy', message: `Too many open event streams (${limits.maxEventStreams})` }, { 'Retry-After': '10' });
      }
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
      res.write('retry: 3000\n\n');
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }

    if (pathname.startsWith('/api/rpc/') && method === 'POST') {
      const name = pathname.slice('/api/rpc/'.length);
      if (!httpChannel(name)) return fail(res, { code: 'not_found', message: `Unknown channel: ${name}` });
      return answer(res, name, await readInput(req, limits.maxBodyBytes), 200, true);
    }

    const oneFile = /^\/api\/backups\/([0-9a-f-]{36})\/file$/.exec(pathname);
    if (oneFile && method === 'GET') {
      const parsed = backupFileInput.safeParse({ id: oneFile[1], path: url.searchParams.get('path') ?? '' });
      if (!parsed.success) return fail(res, validationError(parsed.error).toJSON());
      return sendArtifact(res, parsed.data.id, { file: parsed.data.path });
    }
    const oneTable = /^\/api\/backups\/([0-9a-f-]{36})\/table\.csv$/.exec(pathname);
    if (oneTable && method === 'GET') {
      const parsed = backupTableInput.safeParse({ id: oneTable[1], name: url.searchParams.get('name') ?? '' });
      if (!parsed.success) return fail(res, validationError(parsed.error).toJSON());
      return sendArtifact(res, parsed.data.id, { table: parsed.data.name });
    }
    const download = /^\/api\/executions\/([0-9a-f-]{36})\/download$/.exec(pathname);
    if (download && method === 'GET') return sendArtifact(res, download[1]!, { decrypt: url.searchParams.get('decrypt') === 'true' });
    if (download && method === 'POST') {
      const parsed = downloadInput.safeParse({ ...((await readInput(req, limits.maxBodyBytes)) as object), id: download[1] });
      if (!parsed.success) return fail(res, validationError(parsed.error).toJSON());
      return sendArtifact(res, parsed.data.id, { decrypt: true, identity: parsed.data.identity });
    }

    const match = matchRoute(routes, method, pathname);
    if (match) {
      const body = method === 'GET' || method === 'DELETE' ? undefined : await readInput(req, limits.maxBodyBytes);
      const query = Object.fromEntries(url.searchParams);
      const input = { ...query, ...(body && typeof body === 'object' ? body : {}), ...match.params };
      return answer(res, match.route.channel, input, match.route.status, false);
    }

    if (isApi) return fail(res, { code: 'not_found', message: `No route for ${method} ${pathname}` });
    if (isGet && options.staticDir && serveStatic(options.staticDir, pathname, res)) return;
    fail(res, { code: 'not_found', message: 'Not found' });
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((e: Error) => {
      if (e instanceof Refusal) return void (res.headersSent ? res.end() : refuse(res, e.status, e.error));
      log.warn(`${req.method} ${req.url}: ${e.message}`);
      if (!res.headersSent) fail(res, { code: 'internal', message: e.message });
      else res.end();
    });
  };
  const server = options.tls ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, listener) : http.createServer(listener);
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = isWildcard(options.host) ? '127.0.0.1' : options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `${secure ? 'https' : 'http'}://${shownHost}:${port}`,
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

/**
 * `attachment` with the file's name (RFC 6266): an ASCII stand-in for old clients, and the real name,
 * accents and all, percent-encoded as RFC 5987 allows; no quote, backslash or control character gets in.
 */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
