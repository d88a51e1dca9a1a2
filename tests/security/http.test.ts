// Attacks on the headless server, each against the real app (embedded PostgreSQL, real core) behind its
// real HTTP transport on loopback: DNS rebinding, other web pages, other local programs without the token,
// password guessing, oversized bodies, too many event streams, and desktop-only channels over HTTP.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHttpServer, type RunningServer, type ServerOptions } from '../../electron/server/http.js';
import { loadApiToken } from '../../electron/server/token.js';
import { waitForExecution } from '../support/backups.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';

const EVIL = 'rebind.evil.example';
const UI_MARKER = 'the-real-ui-page';
const SECRET_NAME = 'Payroll folder';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** A raw request (node:http, so Host and Origin are sent exactly as an attacker's browser would). */
function request(
  base: string,
  method: string,
  route: string,
  options: { headers?: Record<string, string>; body?: string | Buffer; ca?: string; readFor?: number } = {},
): Promise<Answer> {
  const { protocol, hostname, port } = new URL(base);
  const client = protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    // `path` as given: a route such as `//evil.example/` must reach this server as it is, not be resolved to another host.
    const target = { hostname, port, path: route, method, headers: options.headers, ...(options.ca ? { ca: options.ca } : {}) };
    const req = client.request(target, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      const done = () => resolve({ status: res.statusCode!, headers: res.headers, text });
      res.on('end', done);
      // An event stream never ends: what arrived in its first moments is enough to tell what it would leak.
      if (options.readFor !== undefined) setTimeout(() => (done(), res.destroy()), options.readFor);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

let app: AppUnderTest;
let server: RunningServer;
let work: string;
let bearer: Record<string, string>;
const MAX_STREAMS = 3;

async function serve(options: Partial<ServerOptions> = {}): Promise<RunningServer> {
  return startHttpServer(app.core, { host: '127.0.0.1', port: 0, token: app.token, ...options });
}

before(async () => {
  app = await startApp();
  bearer = { Authorization: `Bearer ${app.token}` };
  work = mkdtempSync(path.join(os.tmpdir(), 'dg-security-'));
  const ui = path.join(work, 'ui');
  mkdirSync(ui);
  writeFileSync(path.join(ui, 'index.html'), `<!doctype html><title>${UI_MARKER}</title>`);
  server = await serve({ staticDir: ui, allowedHosts: ['nas.example.lan'], limits: { maxEventStreams: MAX_STREAMS } });
  const source = path.join(work, 'payroll');
  mkdirSync(source);
  writeFileSync(path.join(source, 'salaries.csv'), 'name,salary\nana,1000\n');
  const created = await app.http('POST', '/api/datasources', { name: SECRET_NAME, type: 'files', connection_config: { source_path: source } });
  assert.equal(created.status, 201, created.text);
});

after(async () => {
  await server?.close();
  await app?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('DNS rebinding: a Host the server does not serve gets 421 and no data', () => {
  const rebound = () => {
    const port = new URL(server.url).port;
    return { Host: `${EVIL}:${port}`, Origin: `http://${EVIL}:${port}`, ...bearer };
  };

  it('on GET /api/datasources, even with the token and a matching Origin', async () => {
    const res = await request(server.url, 'GET', '/api/datasources', { headers: rebound() });
    assert.equal(res.status, 421);
    assert.ok(!res.text.includes(SECRET_NAME), 'no datasource leaks');
  });

  it('on POST /api/rpc/datasources.create, and nothing is created', async () => {
    const body = JSON.stringify({ name: 'Planted', type: 'files', connection_config: { source_path: work } });
    const res = await request(server.url, 'POST', '/api/rpc/datasources.create', { headers: { ...rebound(), 'Content-Type': 'application/json' }, body });
    assert.equal(res.status, 421);
    const names = (await app.http('GET', '/api/datasources')).body.map((d: Json) => d.name);
    assert.ok(!names.includes('Planted'));
  });

  it('on GET /api/events: no stream is opened', async () => {
    const res = await request(server.url, 'GET', '/api/events', { headers: rebound(), readFor: 300 });
    assert.equal(res.status, 421);
    assert.doesNotMatch(String(res.headers['content-type']), /event-stream/);
  });

  it('on GET / (the UI itself, a static file)', async () => {
    const res = await request(server.url, 'GET', '/', { headers: rebound() });
    assert.equal(res.status, 421);
    assert.ok(!res.text.includes(UI_MARKER));
  });

  it('loopback names, the bound address and --allowed-host names are served', async () => {
    const port = new URL(server.url).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `nas.example.lan:${port}`, 'LOCALHOST']) {
      const res = await request(server.url, 'GET', '/api/datasources', { headers: { Host: host, ...bearer } });
      assert.equal(res.status, 200, host);
    }
    for (const host of [`localhost.${EVIL}`, `127.0.0.1.${EVIL}`, 'nas.example.lan.evil.example']) {
      assert.equal((await request(server.url, 'GET', '/health', { headers: { Host: host } })).status, 421, host);
    }
  });
});

describe('other web pages', () => {
  it('a cross-origin POST is refused even when the browser sends the cookie, and changes nothing', async () => {
    for (const origin of ['https://evil.example', 'null', `http://${EVIL}`]) {
      const res = await request(server.url, 'POST', '/api/rpc/datasources.create', {
        headers: { Cookie: `dg_token=${app.token}`, Origin: origin, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'From a web page', type: 'files', connection_config: { source_path: work } }),
      });
      assert.equal(res.status, 403, origin);
    }
    assert.ok(!(await app.http('GET', '/api/datasources')).text.includes('From a web page'));
  });

  it('a form-encoded body (what a cross-site HTML form can send) is never taken as input', async () => {
    const res = await request(server.url, 'POST', '/api/datasources', {
      headers: { ...bearer, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'name=Form&type=files&connection_config[source_path]=/',
    });
    assert.equal(res.status, 415);
  });
});

describe('the token, even on loopback', () => {
  it('the token file is written at first start, private (0600), and DG_API_TOKEN must be a real secret', () => {
    const file = path.join(app.dataDir, 'api-token');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(readFileSync(file, 'utf8').trim(), app.token);
    assert.ok(app.token.length >= 40);
    assert.equal(loadApiToken(app.dataDir, '').value, app.token, 'the same token at the next start');
    assert.throws(() => loadApiToken(app.dataDir, 'secret'), /at least/);
    assert.equal(loadApiToken(app.dataDir, 'x'.repeat(32)).value, 'x'.repeat(32));
  });

  it('without it: 401 on /api/datasources, /api/rpc/system.info, /api/events, and the sign-in page instead of the UI', async () => {
    assert.equal((await request(server.url, 'GET', '/api/datasources')).status, 401);
    assert.equal((await request(server.url, 'POST', '/api/rpc/system.info')).status, 401);
    const events = await request(server.url, 'GET', '/api/events', { readFor: 300 });
    assert.equal(events.status, 401);
    assert.doesNotMatch(String(events.headers['content-type']), /event-stream/);
    const page = await request(server.url, 'GET', '/');
    assert.equal(page.status, 401);
    assert.ok(!page.text.includes(UI_MARKER));
    assert.match(page.text, /name="token"/);
    assert.equal((await request(server.url, 'GET', '/assets/app.js')).status, 401);
  });

  it('a wrong token: 401, in the header or in the cookie', async () => {
    const wrong = app.token.slice(0, -1) + (app.token.endsWith('A') ? 'B' : 'A');
    assert.equal((await request(server.url, 'GET', '/api/datasources', { headers: { Authorization: `Bearer ${wrong}` } })).status, 401);
    assert.equal((await request(server.url, 'GET', '/api/datasources', { headers: { Cookie: `dg_token=${wrong}` } })).status, 401);
    assert.equal((await request(server.url, 'GET', '/api/datasources', { headers: { Authorization: 'Bearer ' } })).status, 401);
  });

  it('the right token: 200, in the header or in the cookie', async () => {
    const byHeader = await request(server.url, 'GET', '/api/datasources', { headers: bearer });
    assert.equal(byHeader.status, 200);
    assert.ok(byHeader.text.includes(SECRET_NAME));
    const byCookie = await request(server.url, 'POST', '/api/rpc/system.info', { headers: { Cookie: `other=1; dg_token=${app.token}` } });
    assert.equal(byCookie.status, 200);
    const page = await request(server.url, 'GET', '/', { headers: { Cookie: `dg_token=${app.token}` } });
    assert.equal(page.status, 200);
    assert.ok(page.text.includes(UI_MARKER));
  });

  it('the printed ?token= address sets an HttpOnly, SameSite=Strict cookie and redirects (303) to the address without it', async () => {
    const res = await request(server.url, 'GET', `/jobs?tab=all&token=${app.token}`);
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, '/jobs?tab=all');
    const cookie = res.headers['set-cookie']?.[0] ?? '';
    assert.match(cookie, new RegExp(`^dg_token=${app.token};`));
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Strict/);
    assert.doesNotMatch(cookie, /Secure/, 'plain HTTP on loopback: a Secure cookie would never come back');
    assert.equal((await request(server.url, 'GET', `/?token=${app.token}`)).headers.location, '/');
    // A path that looks like another host stays a path on this one.
    assert.equal((await request(server.url, 'GET', `//evil.example/?token=${app.token}`)).headers.location, '/evil.example/');

    const wrong = await request(server.url, 'GET', '/?token=not-the-token');
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers['set-cookie'], undefined);
  });

  it('GET /health answers without the token', async () => {
    const res = await request(server.url, 'GET', '/health');
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.text).status, 'ok');
  });
});

describe('password login (for a server other machines reach)', () => {
  const PASSWORD = 'correct horse battery staple';
  // 25 ms, 50 ms, ... capped at 400 ms after five free tries: the production schedule is 1 s, 2 s, 4 s ... 60 s.
  const delays = { freeFailures: 5, firstDelayMs: 25, maxDelayMs: 400 };

  const signIn = async (base: string, password: string) => {
    const started = performance.now();
    const res = await request(base, 'POST', '/api/auth/login', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ password }) });
    return { res, ms: performance.now() - started };
  };

  it('twenty wrong passwords in a row are slowed down more and more; the right one still works afterwards and resets the delay', async () => {
    const guarded = await serve({ password: PASSWORD, loginDelays: delays });
    try {
      const page = await request(guarded.url, 'GET', '/');
      assert.equal(page.status, 401);
      assert.match(page.text, /type="password"/);

      const times: number[] = [];
      for (let i = 0; i < 20; i++) {
        const { res, ms } = await signIn(guarded.url, `guess ${i}`);
        assert.equal(res.status, 401);
        assert.equal(res.headers['set-cookie'], undefined);
        times.push(ms);
      }
      // Medians: one slow first connection or garbage collection must not decide the verdict.
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const first = median(times.slice(0, 5));
      const last = median(times.slice(-5));
      // Half the cap, not all of it: scrypt's own time varies with the machine's load between the two ends.
      assert.ok(last >= first + delays.maxDelayMs / 2, `the last attempts take longer (first ${first.toFixed(0)} ms, last ${last.toFixed(0)} ms)`);
      for (const ms of times.slice(-5)) assert.ok(ms >= delays.maxDelayMs * 0.9, `each late attempt waits the capped delay (${ms.toFixed(0)} ms)`);

      const right = await signIn(guarded.url, PASSWORD);
      assert.equal(right.res.status, 200);
      const cookie = right.res.headers['set-cookie']?.[0] ?? '';
      assert.match(cookie, /^dg_session=[^;]+; HttpOnly; SameSite=Strict/);
      const session = cookie.split(';')[0]!;
      assert.equal((await request(guarded.url, 'GET', '/api/datasources', { headers: { Cookie: session } })).status, 200);

      const afterReset = await signIn(guarded.url, 'one more typo');
      assert.equal(afterReset.res.status, 401);
      assert.ok(afterReset.ms < delays.maxDelayMs, `a success resets the delay (${afterReset.ms.toFixed(0)} ms)`);
    } finally {
      await guarded.close();
    }
  });

  it('attempts sent in parallel wait their turn instead of skipping the delay', async () => {
    const guarded = await serve({ password: PASSWORD, loginDelays: { freeFailures: 0, firstDelayMs: 60, maxDelayMs: 60 } });
    try {
      const started = performance.now();
      const answers = await Promise.all([1, 2, 3].map((i) => signIn(guarded.url, `parallel ${i}`)));
      assert.deepEqual(
        answers.map((a) => a.res.status),
        [401, 401, 401],
      );
      assert.ok(performance.now() - started >= 3 * 60 * 0.9, 'three delays, one after another');
    } finally {
      await guarded.close();
    }
  });
});

describe('scripts call the routes as the seed writes them', () => {
  it('POST /api/backup-jobs/:id/run with no body and no Content-Type answers 202, and the backup completes', async () => {
    const storage = await app.http('POST', '/api/storage-locations', { name: 'Local', type: 'local', config: { path: path.join(work, 'store') } });
    assert.equal(storage.status, 201, storage.text);
    const datasource = (await app.http('GET', '/api/datasources')).body.find((d: Json) => d.name === SECRET_NAME);
    const job = await app.http('POST', '/api/backup-jobs', {
      name: 'Payroll nightly',
      datasource_id: datasource.id,
      storage_location_id: storage.body.id,
      schedule_cron: '0 3 * * *',
    });
    assert.equal(job.status, 201, job.text);

    const res = await request(server.url, 'POST', `/api/backup-jobs/${job.body.id}/run`, { headers: bearer });
    assert.equal(res.status, 202, res.text);
    const execution = await waitForExecution(app, JSON.parse(res.text).execution_id);
    assert.equal(execution.status, 'completed', execution.error_message);

    // Any POST whose input is all defaults, too.
    assert.equal((await request(server.url, 'POST', '/api/notifications/read', { headers: bearer })).status, 200);
  });

  it('a body over the limit gets 413', async () => {
    const body = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024), type: 'files', connection_config: { source_path: work } });
    const res = await request(server.url, 'POST', '/api/rpc/datasources.create', { headers: { ...bearer, 'Content-Type': 'application/json' }, body });
    assert.equal(res.status, 413);
    // Sent without a length up front (chunked), it is cut off just the same.
    const chunked = await request(server.url, 'POST', '/api/rpc/datasources.create', {
      headers: { ...bearer, 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
      body,
    });
    assert.equal(chunked.status, 413);
  });

  it('one event stream over the cap gets 503; a closed one frees its place', async () => {
    const opened: http.ClientRequest[] = [];
    const open = () =>
      new Promise<number>((resolve, reject) => {
        const req = http.get(new URL('/api/events', server.url), { headers: bearer }, (res) => resolve(res.statusCode!));
        req.on('error', (e) => (opened.includes(req) ? undefined : reject(e)));
        opened.push(req);
      });
    try {
      for (let i = 0; i < MAX_STREAMS; i++) assert.equal(await open(), 200);
      assert.equal(await open(), 503);
      const closing = opened[0]!;
      await new Promise<void>((resolve) => {
        closing.on('close', () => resolve());
        closing.destroy();
      });
      // The server hears of the close a moment later; ask until it has, for at most two seconds.
      let status = 503;
      for (const until = Date.now() + 2000; status === 503 && Date.now() < until;) status = await open();
      assert.equal(status, 200);
    } finally {
      for (const req of opened) req.destroy();
    }
  });

  it('executions.export (writes to any path) is refused over HTTP, like an unknown channel', async () => {
    const completed = (await app.http('GET', '/api/executions?status=completed&limit=1')).body[0];
    assert.ok(completed, 'a completed backup to try to export');
    const destination = path.join(work, 'exported.tar.gz');
    const res = await request(server.url, 'POST', '/api/rpc/executions.export', {
      headers: { ...bearer, 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: completed.id, destination_path: destination }),
    });
    assert.equal(res.status, 404);
    assert.equal(JSON.parse(res.text).error.message, 'Unknown channel: executions.export');
    assert.ok(!existsSync(destination), 'nothing was written');
    const rest = await request(server.url, 'POST', `/api/executions/${completed.id}/export`, { headers: bearer });
    assert.equal(rest.status, 404);
  });
});

describe('HTTPS', () => {
  it('--tls-cert/--tls-key serve HTTPS; the token works and the cookie is Secure', async () => {
    const cert = path.join(work, 'cert.pem');
    const key = path.join(work, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    const ca = readFileSync(cert, 'utf8');
    const secure = await serve({ tls: { cert: readFileSync(cert), key: readFileSync(key) } });
    try {
      assert.match(secure.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const info = await request(secure.url, 'GET', '/api/system/info', { headers: bearer, ca });
      assert.equal(info.status, 200);
      assert.equal(JSON.parse(info.text).mode, 'headless');
      assert.equal((await request(secure.url, 'GET', '/api/system/info', { ca })).status, 401);
      const link = await request(secure.url, 'GET', `/?token=${app.token}`, { ca });
      assert.equal(link.status, 303);
      assert.match(link.headers['set-cookie']?.[0] ?? '', /; HttpOnly; SameSite=Strict; .*; Secure$/);
      // Plain HTTP on the HTTPS port gets no answer from the app.
      const plain = await request(secure.url.replace('https:', 'http:'), 'GET', '/health').then(
        (r) => r.status,
        () => 'no answer',
      );
      assert.notEqual(plain, 200);
    } finally {
      await secure.close();
    }
  });

  it('a non-loopback bind needs a password and TLS', async () => {
    await assert.rejects(serve({ host: '0.0.0.0' }), /DG_PASSWORD/);
    await assert.rejects(serve({ host: '0.0.0.0', password: 'a password' }), /TLS/);
  });
});

describe('the Electron window opens no port', () => {
  it('electron/main talks over IPC and never starts the HTTP server', () => {
    const main = readFileSync(path.resolve(import.meta.dirname, '../../electron/main/index.ts'), 'utf8');
    const imports = [...main.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
    for (const forbidden of ['../server/http.js', 'node:http', 'node:https', 'node:net'])
      assert.ok(!imports.includes(forbidden), `electron/main imports ${forbidden}`);
    assert.doesNotMatch(main, /startHttpServer|\.listen\(/);
    assert.match(main, /ipcMain\.handle\('dg:call'/);
  });
});
