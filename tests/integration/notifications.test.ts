// The notification router and its sinks against real servers on loopback: an HTTP server standing in for
// the webhook (plain JSON, Slack, Discord), a real SMTP server with a login (smtp-server), and the
// desktop sink through a recording "show" callback (Electron cannot run here: the shell's only part is
// handing Electron's Notification to `showDesktopNotifications`).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { BackupExecutions } from '../../electron/core/db/entities.js';
import { createRunner } from '../../electron/core/executions/runner.js';
import { systemClock } from '../../electron/core/kernel/clock.js';
import type { DesktopNotice } from '../../electron/core/notify/desktop.js';
import { Notifier, type NewNotification } from '../../electron/core/notify/notifier.js';
import { runJob, waitForExecution } from '../support/backups.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';
import { startSmtpReceiver, startWebhookReceiver } from '../support/sinks.js';

const SMTP_USER = 'alerts@office.example';
const SMTP_PASSWORD = 'smtp-Pa55-word';
const APP_URL = 'https://nas.example.lan:8443';

let app: AppUnderTest;
let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;
let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
let work: string;
const desktop: DesktopNotice[] = [];

async function settings(values: Record<string, unknown>): Promise<Json> {
  const r = await app.http('PUT', '/api/system/settings', values);
  assert.equal(r.status, 200, r.text);
  return r.body;
}

/** A notification as the core's work sends one; waits until every sink has had it. */
async function notify(severity: 'info' | 'warning' | 'critical', over: Partial<NewNotification> = {}): Promise<Json> {
  const n = await app.core.notifier.notify({
    type: 'backup_failed',
    severity,
    entity_type: 'backup_job',
    entity_id: randomUUID(),
    title: `Backup "Payroll" failed (${severity})`,
    message: 'pg_dump: connection to server at "db.lan" failed',
    metadata: { execution_id: randomUUID() },
    ...over,
  });
  await app.core.notifier.settled();
  return n;
}

const inbox = async (type: string): Promise<Json[]> => (await app.http('GET', `/api/notifications?type=${type}`)).body;
const sendTest = (input: Record<string, unknown>) => app.http('POST', '/api/notifications/test', input);

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

before(async () => {
  work = mkdtempSync('/tmp/dg-notify-');
  [hook, smtp] = await Promise.all([startWebhookReceiver(), startSmtpReceiver(SMTP_USER, SMTP_PASSWORD)]);
  // Three tries, short waits: the backoff is the real code path, only the delays are shortened.
  app = await startApp({ delivery: { timeoutMs: 3_000, retryDelaysMs: [50, 100] } });
  app.core.showDesktopNotifications((notice) => void desktop.push(notice));
  await settings({ 'notifications.webhook_url': `${hook.url}/hooks/dg`, 'notifications.app_url': APP_URL });
});

after(async () => {
  await app?.stop();
  await Promise.all([hook?.stop(), smtp?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

beforeEach(() => {
  hook.reset();
  desktop.length = 0;
});

describe('webhook', () => {
  it('receives one POST per notification with type, severity, title, message, entity, link and time', async () => {
    await settings({ 'notifications.webhook_format': 'json' });
    const n = await notify('critical');
    assert.equal(hook.received.length, 1);
    const [{ path: route, headers, body }] = hook.received as [(typeof hook.received)[0]];
    assert.equal(route, '/hooks/dg');
    assert.match(String(headers['content-type']), /application\/json/);
    assert.deepEqual(
      { ...body },
      {
        id: n.id,
        type: 'backup_failed',
        severity: 'critical',
        title: n.title,
        message: n.message,
        entity_type: 'backup_job',
        entity_id: n.entity_id,
        link: `${APP_URL}/#/activity/${n.metadata.execution_id}`,
        created_at: n.created_at,
        source: 'DataGuardian',
        test: false,
      },
    );
  });

  it('speaks Slack ({text, blocks}) and Discord ({content, embeds}) when chosen', async () => {
    await settings({ 'notifications.webhook_format': 'slack' });
    const n = await notify('critical', { title: 'Backup <!channel> & co failed' });
    const slack = hook.received[0]!.body as Json;
    assert.match(slack.text, /Critical: Backup <!channel> & co failed/);
    assert.equal(slack.blocks[0].type, 'section');
    assert.match(slack.blocks[0].text.text, /Backup &lt;!channel&gt; &amp; co failed/, 'mrkdwn is escaped: no channel ping');
    assert.match(slack.blocks[0].text.text, /pg_dump: connection/);
    assert.match(slack.blocks[1].elements[0].text, new RegExp(`<${APP_URL}/#/activity/${n.metadata.execution_id}\\|Open in DataGuardian>`));

    hook.reset();
    await settings({ 'notifications.webhook_format': 'discord' });
    await notify('warning', { title: 'Copy to @everyone failed' });
    const discord = hook.received[0]!.body as Json;
    assert.match(discord.content, /Warning\*\*: Copy to @everyone failed/);
    assert.equal(discord.embeds[0].title, 'Copy to @everyone failed');
    assert.match(discord.embeds[0].description, /pg_dump/);
    assert.ok(discord.embeds[0].timestamp);
    assert.deepEqual(discord.allowed_mentions, { parse: [] });
    await settings({ 'notifications.webhook_format': 'json' });
  });

  it('severity floor: an info notification does not reach a sink whose floor is warning', async () => {
    await settings({ 'notifications.webhook_min_severity': 'warning' });
    await notify('info');
    assert.equal(hook.received.length, 0);
    await notify('warning');
    assert.equal(hook.received.length, 1);

    await settings({ 'notifications.webhook_min_severity': 'critical' });
    await notify('warning');
    assert.equal(hook.received.length, 1, 'a warning stays below a critical floor');
    await settings({ 'notifications.webhook_min_severity': 'info' });
    await notify('info');
    assert.equal(hook.received.length, 2);
    await settings({ 'notifications.webhook_min_severity': 'warning' });
  });

  it('each kind goes where Settings route it: off stays out of the inbox, inbox is unread, desktop also pops up', async () => {
    const unread = async () => (await app.http('GET', '/api/notifications/unread-count')).body.unread as number;
    const routing = (await app.http('GET', '/api/system/settings')).body['notifications.routing'];
    assert.equal(routing.backup_success, 'off', 'a routine success is quiet by default');
    assert.equal(routing.backup_failed, 'desktop');

    const before = await unread();
    const success = { type: 'backup_success' as const, title: 'Backup of Payroll completed' };
    const quiet = await notify('info', success);
    assert.equal(await unread(), before, 'a routine success leaves the bell alone');
    assert.equal((await inbox('backup_success')).length, 0, 'and is not kept in the inbox');
    assert.equal(desktop.length, 0);
    assert.equal(hook.received.length, 0, 'the webhook floor (warning) decides on its own');
    await settings({ 'notifications.webhook_min_severity': 'info' });
    await notify('info', success);
    assert.equal(hook.received.at(-1)?.body.title, quiet.title, 'off in the app, still on a webhook that asks for info');
    await settings({ 'notifications.webhook_min_severity': 'warning' });

    // A warning of a kind that is off still needs the user: it is kept unread.
    await notify('warning', { ...success, title: 'Backup of Payroll completed with failed copies' });
    assert.equal(await unread(), before + 1);

    await settings({ 'notifications.routing': { ...routing, backup_success: 'inbox', backup_failed: 'inbox' } });
    await notify('info', success);
    assert.equal(await unread(), before + 2);
    await notify('critical');
    assert.equal(desktop.length, 0, 'inbox: no desktop notification');
    await settings({ 'notifications.routing': { ...routing, backup_success: 'desktop' } });
    await notify('info', success);
    await notify('critical');
    assert.deepEqual(
      desktop.map((d) => d.title),
      ['Backup of Payroll completed', 'Backup "Payroll" failed (critical)'],
    );
    await settings({ 'notifications.routing': routing });

    const refused = await app.http('PUT', '/api/system/settings', { 'notifications.routing': { backup_success: 'loud' } });
    assert.equal(refused.status, 400);
  });

  it('a 500 is retried; one that passes on the second try leaves no failure in the inbox', async () => {
    hook.answer(500);
    await notify('critical');
    assert.equal(hook.received.length, 2);
    assert.equal((await inbox('delivery_failed')).length, 0);
  });

  it('after the last try the inbox says the delivery failed, never sent back to the webhook, at most once an hour', async () => {
    hook.answer(500, 500, 500);
    const n = await notify('critical');
    assert.equal(hook.received.length, 3, 'three tries');
    const [failed, ...more] = await inbox('delivery_failed');
    assert.equal(more.length, 0);
    assert.match(failed.title, /^Webhook delivery failed: HTTP 500 \(upstream trouble\) after 3 tries$/);
    assert.match(failed.message, new RegExp(`"${n.title.replace(/[()]/g, '\\$&')}" did not reach the webhook`));
    assert.equal(failed.severity, 'warning');
    assert.equal(failed.entity_type, 'system');
    assert.deepEqual({ sink: failed.metadata.sink, notification_id: failed.metadata.notification_id }, { sink: 'webhook', notification_id: n.id });
    assert.equal(hook.received.length, 3, 'the failure entry (a warning, above the floor) did not go to the webhook that failed');
    assert.ok(
      desktop.some((d) => /Webhook delivery failed/.test(d.title) && d.route === '/settings'),
      'the other sinks tell it',
    );

    hook.answer(500, 500, 500);
    await notify('critical');
    assert.equal(hook.received.length, 6);
    assert.equal((await inbox('delivery_failed')).length, 1, 'a second failure within the hour is only logged');
  });
});

describe('a failed backup is never silent', () => {
  it('leaves an inbox entry, a desktop notification that opens the run, and a webhook call', async () => {
    const storageDir = path.join(work, 'storage');
    const storage = await app.http('POST', '/api/storage-locations', { name: 'Local', type: 'local', config: { path: storageDir } });
    assert.equal(storage.status, 201, storage.text);
    const ds = await app.http('POST', '/api/datasources', {
      name: 'Server down',
      type: 'postgres',
      save_anyway: true,
      connection_config: { host: '127.0.0.1', port: await closedPort(), database: 'payroll', username: 'backup', password: 'x' },
    });
    assert.equal(ds.status, 201, ds.text);
    const execution = await runJob(app, { name: 'Payroll', datasource_id: ds.body.id, storage_location_id: storage.body.id });
    assert.equal(execution.status, 'failed');
    await app.core.notifier.settled();

    const [entry] = (await inbox('backup_failed')).filter((n) => n.metadata.execution_id === execution.id);
    assert.ok(entry, 'the inbox has it');
    const notice = desktop.find((d) => d.title === entry.title);
    assert.ok(notice, 'the desktop showed it');
    assert.equal(notice.route, `/activity/${execution.id}`, 'clicking it opens the run');
    assert.equal(notice.severity, 'critical');
    assert.ok(hook.received.some((r) => r.body.type === 'backup_failed' && r.body.link === `${APP_URL}/#/activity/${execution.id}`));
  });
});

describe('a backup of a folder that is gone', () => {
  it('fails and says so, instead of completing with an empty archive', async () => {
    const storage = await app.http('POST', '/api/storage-locations', { name: 'For folders', type: 'local', config: { path: path.join(work, 'folders') } });
    const ds = await app.http('POST', '/api/datasources', {
      name: 'Gone folder',
      type: 'files',
      save_anyway: true,
      connection_config: { source_path: path.join(work, 'missing') },
    });
    const execution = await runJob(app, { name: 'Gone', datasource_id: ds.body.id, storage_location_id: storage.body.id });
    assert.equal(execution.status, 'failed');
    assert.match(execution.error_message, /Folder not found/);
    await app.core.notifier.settled();
    assert.ok((await inbox('backup_failed')).some((n) => n.metadata.execution_id === execution.id));
  });

  it('restoring a lost folder in place needs no safety backup of it (there is nothing to save)', async () => {
    const storage = await app.http('POST', '/api/storage-locations', { name: 'For lost folders', type: 'local', config: { path: path.join(work, 'lost') } });
    const source = path.join(work, 'shared-docs');
    mkdirSync(source);
    writeFileSync(path.join(source, 'contract.txt'), 'signed');
    const ds = await app.http('POST', '/api/datasources', { name: 'Shared docs', type: 'files', connection_config: { source_path: source } });
    const backup = await runJob(app, { name: 'Shared docs', datasource_id: ds.body.id, storage_location_id: storage.body.id });
    assert.equal(backup.status, 'completed', backup.error_message);
    rmSync(source, { recursive: true });
    const started = await app.http('POST', `/api/backups/${backup.id}/restore`, { safety_backup: true });
    assert.equal(started.status, 202, started.text);
    const done = await waitForExecution(app, started.body.execution_id);
    assert.equal(done.status, 'completed', done.error_message);
    assert.equal(readFileSync(path.join(source, 'contract.txt'), 'utf8'), 'signed');
  });
});

describe('work that fails before it can say so itself', () => {
  it('still leaves an inbox entry: the runner notifies any work that throws', async () => {
    // Real runner, real database, a real execution row; only the work is one that throws at once (as a
    // lost metadata connection would, before the work's own error handling begins).
    const [row] = await app.core.db.getRepository(BackupExecutions).find({ where: { status: 'failed' }, take: 1 });
    assert.ok(row, 'an execution from the tests above');
    const throwing = async () => {
      throw new Error('Connection terminated unexpectedly');
    };
    const run = createRunner({ db: app.core.db, events: app.core.events, clock: systemClock }, app.core.notifier, {
      backup: throwing,
      restore: throwing,
      verify: throwing,
      cleanup: throwing,
      drill: throwing,
    });
    await run(row, new AbortController().signal);
    await app.core.notifier.settled();
    const entry = (await inbox('backup_failed')).find((n) => n.message === 'Connection terminated unexpectedly');
    assert.ok(entry, 'the inbox has it');
    assert.equal(entry.metadata.execution_id, row.id);
    assert.ok(desktop.some((d) => d.title === entry.title && d.route === `/activity/${row.id}`));
  });
});

describe('closing the app', () => {
  it('waits briefly for deliveries under way, then cancels the rest without an inbox entry', async () => {
    const notifier = new Notifier({ db: app.core.db, events: app.core.events, clock: systemClock });
    const delivered: string[] = [];
    notifier.addSink('slow', async (n) => {
      await new Promise((r) => setTimeout(r, 150));
      delivered.push(n.title);
    });
    notifier.addSink('stuck', (_n, { signal }) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))));
    const before = (await inbox('delivery_failed')).length;
    await notifier.notify({ type: 'backup_failed', severity: 'critical', entity_type: 'system', entity_id: randomUUID(), title: 'Last words', message: '…' });
    const started = Date.now();
    await notifier.close(1_000);
    assert.deepEqual(delivered, ['Last words'], 'the slow delivery finished');
    assert.ok(Date.now() - started < 3_000, 'the stuck one was cancelled after the grace');
    assert.equal((await inbox('delivery_failed')).length, before, 'a delivery cancelled by closing is only logged');
  });
});

describe('e-mail', () => {
  const config = () => ({ host: smtp.host, port: smtp.port, username: SMTP_USER, from: 'DataGuardian <dg@office.example>', to: 'ops@office.example' });

  it('sends through the SMTP server with its login; the settings answer only says a password is set', async () => {
    const saved = await settings({
      'notifications.email_enabled': true,
      'notifications.email_min_severity': 'critical',
      'notifications.email_smtp_config': { ...config(), password: SMTP_PASSWORD },
    });
    assert.equal(saved['notifications.email_smtp_config'].password_set, true);
    assert.equal(saved['notifications.email_smtp_config'].password, undefined);
    const before = smtp.mails.length;
    await notify('warning');
    assert.equal(smtp.mails.length, before, 'a warning stays below the e-mail floor (critical)');
    const n = await notify('critical', { title: 'Backup "Payroll" failed', message: 'pg_dump: FATAL: password authentication failed for user "backup"' });
    const mail = smtp.mails.at(-1)!;
    assert.equal(smtp.mails.length, before + 1);
    assert.equal(mail.user, SMTP_USER);
    assert.deepEqual(mail.to, ['ops@office.example']);
    assert.equal(mail.from, 'dg@office.example');
    assert.equal(mail.subject, '[DataGuardian] Critical: Backup "Payroll" failed');
    assert.match(mail.text, /pg_dump: FATAL: password authentication failed for user "backup"/);
    assert.match(mail.text, new RegExp(`Open: ${APP_URL}/#/activity/${n.metadata.execution_id}`));
  });

  it('"Send test" answers the server\'s authentication error for a wrong password, and sends with the right one', async () => {
    const wrong = await sendTest({ sink: 'email', smtp: { ...config(), password: 'not-the-password' } });
    assert.equal(wrong.status, 200, wrong.text);
    assert.equal(wrong.body.ok, false);
    assert.match(wrong.body.message, /535/);
    assert.match(wrong.body.message, /Authentication failed/);

    const before = smtp.mails.length;
    // The form's unsaved values without a password: the saved one follows, since the server and user are the same.
    const right = await sendTest({ sink: 'email', smtp: config() });
    assert.deepEqual(right.body, { ok: true, message: 'Sent to ops@office.example' });
    assert.equal(smtp.mails.length, before + 1);
    assert.match(smtp.mails.at(-1)!.subject, /DataGuardian test notification/);
  });

  it('the saved password does not follow to another host, port or user: the test says to type it again', async () => {
    const moved = await sendTest({ sink: 'email', smtp: { ...config(), host: 'localhost' } });
    assert.equal(moved.body.ok, false);
    assert.match(moved.body.message, /type it again/);
  });

  it('"Send test" names a refused connection and its port', async () => {
    const port = await closedPort();
    const refused = await sendTest({ sink: 'email', smtp: { ...config(), port, password: SMTP_PASSWORD } });
    assert.equal(refused.body.ok, false);
    assert.match(refused.body.message, new RegExp(`connection refused on port ${port}`));
  });

  it('a failing e-mail leaves its own delivery failure in the inbox', async () => {
    await settings({ 'notifications.email_smtp_config': { ...config(), password: 'now-wrong' } });
    await notify('critical');
    const failed = (await inbox('delivery_failed')).find((n) => n.metadata.sink === 'email');
    assert.ok(failed, 'an inbox entry for the e-mail sink');
    assert.match(failed.title, /^E-mail delivery failed: .*535/);
    await settings({ 'notifications.email_enabled': false });
  });
});

describe('"Send test" of the webhook and the desktop', () => {
  it('reports success, HTTP errors and refused connections in the words of the server', async () => {
    const ok = await sendTest({ sink: 'webhook', webhook_url: `${hook.url}/unsaved`, webhook_format: 'discord' });
    assert.deepEqual(ok.body, { ok: true, message: 'The webhook answered HTTP 200' });
    assert.equal(hook.received.at(-1)!.path, '/unsaved');
    assert.ok(Array.isArray(hook.received.at(-1)!.body.embeds), 'the unsaved format is used');

    hook.answer(502);
    const bad = await sendTest({ sink: 'webhook' });
    assert.equal(bad.body.ok, false);
    assert.match(bad.body.message, /^HTTP 502/);
    assert.equal(hook.received.length, 2, 'a test is one try');

    const port = await closedPort();
    const refused = await sendTest({ sink: 'webhook', webhook_url: `http://127.0.0.1:${port}/x` });
    assert.equal(refused.body.ok, false);
    assert.match(refused.body.message, new RegExp(`connection refused on port ${port}`));
  });

  it('the desktop test goes through the shell\'s "show"; a headless server without one says so', async () => {
    const shown = await sendTest({ sink: 'desktop' });
    assert.deepEqual(shown.body, { ok: true, message: 'Shown on this desktop' });
    assert.equal(desktop.at(-1)!.title, 'DataGuardian test notification');

    const headless = await startApp();
    try {
      const r = await headless.http('POST', '/api/notifications/test', { sink: 'desktop' });
      assert.equal(r.body.ok, false);
      assert.match(r.body.message, /desktop app only/);
    } finally {
      await headless.stop();
    }
  });
});
