// Settings' notification section in Debian's Chromium against the real headless server (dist/server/cli.js,
// built by `npm run build`): "Send test" of the webhook and the e-mail against real servers on loopback,
// the answer beside the button, and the SMTP password saved, shown only as saved, and asked for again
// when the host changes.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort, removeTempDir, tempDir } from '../harness/index.js';
import { Daemon, withPortRetry } from '../harness/process.js';
import { startSmtpReceiver, startWebhookReceiver } from '../support/sinks.js';

const root = path.resolve(import.meta.dirname, '../..');
const cli = path.join(root, 'dist/server/cli.js');
const shots = path.join(root, 'test-results');
const CHROMIUM = '/usr/bin/chromium';
const SMTP_PASSWORD = 'e2e-smtp-secret';

let app: Daemon;
let dataDir: string;
let browser: Browser;
let page: Page;
let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;
let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;

async function startServer(): Promise<{ daemon: Daemon; signInUrl: string }> {
  return withPortRetry(async () => {
    const port = await freePort();
    const logFile = path.join(dataDir, 'server.log');
    const daemon = new Daemon('DataGuardian server', process.execPath, [cli, '--port', String(port), '--host', '127.0.0.1'], {
      logFile,
      stopSignal: 'SIGTERM',
      exitSignal: 'SIGTERM',
    });
    let printed: string | undefined;
    try {
      await daemon.waitUntilReady(async () => {
        const res = await fetch(`http://127.0.0.1:${port}/health`);
        if (res.status !== 200) throw new Error(`/health answered ${res.status}`);
        printed = /DataGuardian is running at (\S+)/.exec(readFileSync(logFile, 'utf8'))?.[1];
        if (!printed) throw new Error('the server has not printed its address yet');
      }, 90_000);
    } catch (e) {
      await daemon.stop();
      throw e;
    }
    return { daemon, signInUrl: printed! };
  });
}

before(async () => {
  assert.ok(existsSync(cli), `${cli} is missing: run \`npm run build\` first`);
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
  mkdirSync(shots, { recursive: true });
  dataDir = await tempDir('dg-e2e-notify-', { owner: 'root', mode: 0o755 });
  process.env.DG_DATA_DIR = dataDir;
  [hook, smtp] = await Promise.all([startWebhookReceiver(), startSmtpReceiver('alerts', SMTP_PASSWORD)]);
  const started = await startServer();
  app = started.daemon;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 860 }, timezoneId: 'UTC' });
  page.setDefaultTimeout(20_000);
  await page.goto(started.signInUrl);
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
});

after(async () => {
  await browser?.close();
  await app?.stop();
  await Promise.all([hook?.stop(), smtp?.stop()]);
  if (dataDir) await removeTempDir(dataDir);
});

test('Send test of the webhook and the e-mail shows the answer beside the button; the SMTP password stays saved', async () => {
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
  // Headless: no desktop to notify, so neither a desktop route nor its Send test is offered.
  const route = page.getByRole('group', { name: 'Where each notification goes' }).getByLabel(/^Backup failed/);
  assert.deepEqual(await route.locator('option').allTextContents(), ['Inbox']);
  assert.equal(await page.getByRole('button', { name: 'Send test desktop notification' }).count(), 0);

  // Webhook: the unsaved URL and format are what the test sends.
  await page.getByLabel('Webhook address').fill(`${hook.url}/slack`);
  await page.getByLabel('Message format').selectOption('slack');
  await page.getByRole('button', { name: 'Send test webhook' }).click();
  await page.getByRole('status', { name: 'webhook test result' }).filter({ hasText: 'The webhook answered HTTP 200' }).waitFor();
  assert.equal(hook.received.at(-1)!.path, '/slack');
  assert.ok(Array.isArray(hook.received.at(-1)!.body.blocks), 'the Slack shape');
  hook.answer(502);
  await page.getByRole('button', { name: 'Send test webhook' }).click();
  await page
    .getByRole('status', { name: 'webhook test result' })
    .filter({ hasText: /HTTP 502/ })
    .waitFor();

  // E-mail: a wrong password answers the server's 535; the right one sends.
  await page.getByLabel('Send alerts by e-mail').check();
  await page.getByLabel('SMTP host').fill(smtp.host);
  await page.getByLabel('SMTP port').fill(String(smtp.port));
  await page.getByLabel('SMTP username').fill('alerts');
  await page.getByLabel('SMTP password').fill('wrong');
  await page.getByLabel('From address').fill('dg@office.example');
  await page.getByLabel('Send alerts to').fill('ops@office.example');
  await page.getByRole('button', { name: 'Send test e-mail' }).click();
  await page.getByRole('status', { name: 'email test result' }).filter({ hasText: /535/ }).waitFor();
  await page.getByLabel('SMTP password').fill(SMTP_PASSWORD);
  await page.getByRole('button', { name: 'Send test e-mail' }).click();
  await page.getByRole('status', { name: 'email test result' }).filter({ hasText: 'Sent to ops@office.example' }).waitFor();
  assert.match(smtp.mails.at(-1)!.subject, /DataGuardian test notification/);

  // Saved: the password field empties and says a password is saved; a new host asks for it again.
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByRole('status').filter({ hasText: 'Settings saved' }).waitFor();
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
  const password = page.getByLabel('SMTP password');
  assert.equal(await password.inputValue(), '');
  assert.match((await password.getAttribute('placeholder')) ?? '', /saved/);
  await page.getByText('All changes saved.').waitFor();
  await page.getByRole('button', { name: 'Send test e-mail' }).click();
  await page.getByRole('status', { name: 'email test result' }).filter({ hasText: 'Sent to ops@office.example' }).waitFor();
  await page.getByLabel('SMTP host').fill('localhost');
  await page.getByText('The saved password is not sent to a new host, port or user: type it again.').waitFor();
  await page.screenshot({ path: path.join(shots, '9-settings-notifications.png'), fullPage: true });
  assert.deepEqual(pageErrors, []);
});
