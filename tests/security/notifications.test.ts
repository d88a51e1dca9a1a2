// Attacks on the notification settings and sinks, against the real app behind its HTTP transport: the
// SMTP password must never leave the app (answers, logs, the database in clear), a webhook URL must be
// http(s), a webhook must not carry alerts on to another host by redirecting, and "Send test" (which makes
// the app connect somewhere) needs the token like every route.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startApp, type AppUnderTest } from '../support/app.js';
import { startSmtpReceiver, startWebhookReceiver } from '../support/sinks.js';

const SMTP_USER = 'alerts';
const SMTP_PASSWORD = 'S3cret-smtp-Passw0rd';
const SMTP_KEY = 'notifications.email_smtp_config';

let app: AppUnderTest;
let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;
let elsewhere: Awaited<ReturnType<typeof startWebhookReceiver>>;

const smtpConfig = (over: Record<string, unknown> = {}) => ({
  host: smtp.host,
  port: smtp.port,
  username: SMTP_USER,
  from: 'dg@office.example',
  to: 'ops@office.example',
  ...over,
});

before(async () => {
  [smtp, hook, elsewhere] = await Promise.all([startSmtpReceiver(SMTP_USER, SMTP_PASSWORD), startWebhookReceiver(), startWebhookReceiver()]);
  app = await startApp({ delivery: { timeoutMs: 3_000, retryDelaysMs: [20] } });
});

after(async () => {
  await app?.stop();
  await Promise.all([smtp?.stop(), hook?.stop(), elsewhere?.stop()]);
});

describe('the SMTP password', () => {
  it('never appears in a settings answer, the log or the database in clear; the mask keeps it; a new host drops it', async () => {
    const saved = await app.http('PUT', '/api/system/settings', {
      'notifications.email_enabled': true,
      [SMTP_KEY]: smtpConfig({ password: SMTP_PASSWORD }),
    });
    assert.equal(saved.status, 200, saved.text);
    assert.equal(saved.body[SMTP_KEY].password_set, true);
    await app.http('GET', '/api/system/settings');
    await app.rpc('settings.get');

    // Saving the form as it came back (the mask, no password) keeps the saved one: the e-mail still logs in.
    const again = await app.http('PUT', '/api/system/settings', { [SMTP_KEY]: { ...saved.body[SMTP_KEY] } });
    assert.equal(again.body[SMTP_KEY].password_set, true);
    const sent = await app.http('POST', '/api/notifications/test', { sink: 'email' });
    assert.deepEqual(sent.body, { ok: true, message: 'Sent to ops@office.example' });
    assert.equal(smtp.mails.at(-1)!.user, SMTP_USER);

    // A failure (wrong password) is logged and put in the inbox: neither carries the password typed.
    await app.http('POST', '/api/notifications/test', { sink: 'email', smtp: smtpConfig({ password: 'wrong-but-secret-too' }) });
    await app.http('PUT', '/api/system/settings', { [SMTP_KEY]: smtpConfig({ password: 'wrong-but-secret-too' }) });
    await app.core.notifier.notify({
      type: 'backup_failed',
      severity: 'critical',
      entity_type: 'system',
      entity_id: crypto.randomUUID(),
      title: 'x',
      message: 'y',
    });
    await app.core.notifier.settled();
    await app.http('GET', '/api/notifications');

    const rows = (await app.core.db.query(`SELECT value::text AS v FROM system_settings WHERE key = $1`, [SMTP_KEY])) as { v: string }[];
    assert.match(rows[0]!.v, /"password": ?"enc:v1:/, 'sealed at rest');
    assert.ok(!/S3cret-smtp|wrong-but-secret/.test(rows[0]!.v));
    for (const text of app.transcript)
      assert.ok(!text.includes(SMTP_PASSWORD) && !text.includes('wrong-but-secret-too'), `an answer leaked it: ${text.slice(0, 200)}`);
    const log = path.join(app.dataDir, 'logs', 'dataguardian.log');
    assert.ok(existsSync(log), 'the failures were logged');
    assert.match(readFileSync(log, 'utf8'), /refused the login: 535/);
    assert.ok(!/S3cret-smtp|wrong-but-secret/.test(readFileSync(log, 'utf8')), 'the log has no password');

    // Another host without typing the password again: the saved one is not sent there, it is dropped.
    const moved = await app.http('PUT', '/api/system/settings', { [SMTP_KEY]: smtpConfig({ host: 'mail.elsewhere.example' }) });
    assert.equal(moved.body[SMTP_KEY].password_set, false);
    await app.http('PUT', '/api/system/settings', { 'notifications.email_enabled': false });
  });
});

describe('the webhook', () => {
  it('refuses a URL that is not http(s), in the settings and in "Send test"', async () => {
    for (const url of ['file:///etc/passwd', 'javascript:alert(1)', 'ftp://files.example/x', 'gopher://127.0.0.1:25/', 'data:text/plain,hi', '/relative']) {
      const r = await app.http('PUT', '/api/system/settings', { 'notifications.webhook_url': url });
      assert.equal(r.status, 400, `${url}: ${r.text}`);
      assert.equal(r.body.error.code, 'validation_error');
      const t = await app.http('POST', '/api/notifications/test', { sink: 'webhook', webhook_url: url });
      assert.equal(t.status, 400, `${url}: ${t.text}`);
    }
    const link = await app.http('PUT', '/api/system/settings', { 'notifications.app_url': 'javascript:alert(1)' });
    assert.equal(link.status, 400, 'the link base of alerts is http(s) too');
    const extra = await app.http('POST', '/api/notifications/test', { sink: 'webhook', headers: { Cookie: 'x' } });
    assert.equal(extra.status, 400, 'unknown fields are refused');
    const sink = await app.http('POST', '/api/notifications/test', { sink: 'shell' });
    assert.equal(sink.status, 400);
  });

  it('does not follow a redirect to another host, neither in "Send test" nor when delivering', async () => {
    hook.redirect(`${elsewhere.url}/stolen`);
    const t = await app.http('POST', '/api/notifications/test', { sink: 'webhook', webhook_url: `${hook.url}/hook` });
    assert.equal(t.body.ok, false);
    assert.match(t.body.message, new RegExp(`HTTP 307: the webhook redirects to ${elsewhere.url}, which DataGuardian does not follow`));

    await app.http('PUT', '/api/system/settings', { 'notifications.webhook_url': `${hook.url}/hook` });
    await app.core.notifier.notify({
      type: 'backup_failed',
      severity: 'critical',
      entity_type: 'system',
      entity_id: crypto.randomUUID(),
      title: 'x',
      message: 'y',
    });
    await app.core.notifier.settled();
    assert.equal(elsewhere.received.length, 0, 'nothing reached the other host');
    assert.equal(hook.received.length, 2, `a redirect is not retried: ${JSON.stringify(hook.received.map((r) => [r.path, r.body]))}`);
    const failed = (await app.http('GET', '/api/notifications?type=delivery_failed')).body;
    assert.ok(failed.some((n: { title: string }) => /Webhook delivery failed: HTTP 307/.test(n.title)));
  });

  it('"Send test" requires the token like every route', async () => {
    for (const [route, body] of [
      ['/api/notifications/test', { sink: 'webhook', webhook_url: `${hook.url}/no-token` }],
      ['/api/rpc/notifications.test', { sink: 'webhook', webhook_url: `${hook.url}/no-token` }],
    ] as const) {
      for (const auth of [undefined, 'Bearer wrong-token']) {
        const r = await fetch(app.url + route, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...(auth ? { Authorization: auth } : {}) },
          body: JSON.stringify(body),
        });
        assert.equal(r.status, 401, `${route} ${auth ?? 'without a token'}`);
      }
    }
    assert.ok(!hook.received.some((r) => r.path === '/no-token'), 'no request left the app');
  });
});
