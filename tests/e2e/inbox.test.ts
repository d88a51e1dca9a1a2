// The inbox, the bell and the Overview in Debian's Chromium against the real app (core and HTTP server
// in this process, serving the built renderer) and a real PostgreSQL to check and back up.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startPostgres, type PgServer } from '../harness/index.js';
import { startApp, type AppUnderTest } from '../support/app.js';
import { waitForExecution } from '../support/backups.js';

const root = path.resolve(import.meta.dirname, '../..');
const staticDir = path.join(root, 'dist/renderer');
const shots = path.join(root, 'test-results');
const CHROMIUM = '/usr/bin/chromium';

let pg: PgServer;
let app: AppUnderTest;
let storageDir: string;
let browser: Browser;
let page: Page;
let shopId: string;

async function call(channel: string, input: unknown = {}) {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, r.text);
  return r.body.data;
}

async function openSection(link: string, heading: string) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link }).click();
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

const bell = () => page.getByRole('navigation', { name: 'Main' }).getByTestId('unread-count');

before(async () => {
  assert.ok(existsSync(path.join(staticDir, 'index.html')), `${staticDir} is missing: run \`npm run build\` first`);
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
  mkdirSync(shots, { recursive: true });
  storageDir = mkdtempSync('/tmp/dg-e2e-inbox-storage-');
  chmodSync(storageDir, 0o777);
  pg = await startPostgres();
  await pg.createDatabase('shop');
  await pg.query('CREATE TABLE orders AS SELECT g AS id, md5(g::text) AS note FROM generate_series(1, 5000) g', 'shop');
  app = await startApp({ staticDir });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 860 }, timezoneId: 'UTC' });
  page.setDefaultTimeout(20_000);
});

after(async () => {
  await browser?.close();
  await app?.stop();
  await pg?.stop();
  if (storageDir) rmSync(storageDir, { recursive: true, force: true });
});

test('a new user lands on the Overview, which says what to do first', async () => {
  await page.goto(`${app.url}/?token=${app.token}`);
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  await page.getByText('Nothing to watch yet').waitFor();
  await page.getByRole('link', { name: 'Add a datasource' }).waitFor();
  const nav = await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();
  assert.equal(nav[0], 'Overview', 'the Overview is first in the sidebar');
  await page.screenshot({ path: path.join(shots, 'overview-empty.png') });
});

test('a connection_lost shows on the bell at once, is listed with its datasource, and is marked read', async () => {
  shopId = (
    await call('datasources.create', {
      name: 'Shop',
      type: 'postgres',
      connection_config: { host: pg.host, port: pg.port, database: 'shop', username: pg.user, password: pg.password },
    })
  ).id;
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  assert.equal(await bell().count(), 0, 'nothing unread yet');

  // The real path: the server stops answering and the health monitor's third failed check in a row
  // tells it, once, while the page is open.
  await pg.halt();
  try {
    for (let i = 0; i < 3; i++) await app.core.health.runOnce();
  } finally {
    await pg.resume();
  }
  // The first failure said it was not answering (warning), the third that the connection is lost.
  await page.waitForFunction(() => document.querySelector('[data-testid="unread-count"]')?.textContent === '2 unread');
  assert.deepEqual(
    (await call('notifications.list', { unread: true })).map((n: { type: string }) => n.type),
    ['connection_lost', 'health_degraded'],
  );

  await openSection('Notifications', 'Notifications');
  const item = page.getByRole('listitem', { name: 'Unread: Connection lost: Shop' });
  await item.waitFor();
  assert.match((await item.textContent()) ?? '', /Connection lost.*Shop/);
  assert.equal(await item.getByRole('link', { name: 'Datasource “Shop”' }).getAttribute('href'), `#/datasources/${shopId}/edit`);

  // The seed's filter, from the page.
  await page.getByLabel('Type').selectOption('connection_lost');
  await page.waitForURL(/#\/notifications\?type=connection_lost$/);
  await item.waitFor();
  await page.getByLabel('Severity').selectOption('info');
  await page.getByText('No notification matches').waitFor();
  await page.getByLabel('Severity').selectOption('critical');
  await item.waitFor();
  await page.screenshot({ path: path.join(shots, 'inbox-unread.png') });

  await item.getByRole('button', { name: 'Mark “Connection lost: Shop” read' }).click();
  await page.getByRole('listitem', { name: 'Connection lost: Shop', exact: true }).waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid="unread-count"]')?.textContent === '1 unread');
  assert.deepEqual(await call('notifications.unreadCount'), { unread: 1, critical: 0, warning: 1 });
});

test('the Overview draws the latency of real health checks, and a job’s runs', async () => {
  // Three real checks from the Datasources page's "Check now".
  await openSection('Datasources', 'Datasources');
  for (let n = 0; n < 3; n++) {
    await page.getByRole('button', { name: 'Check now: Shop' }).click();
    await page
      .getByText(/Shop answered in \d+ ms/)
      .last()
      .waitFor();
  }
  // And one backup, for the size and duration charts.
  const storage = await call('storages.create', { name: 'Disk', type: 'local', config: { path: storageDir } });
  const job = await call('jobs.create', { name: 'Shop nightly', datasource_id: shopId, storage_location_id: storage.id, schedule_cron: '0 3 * * *' });
  const run = await call('jobs.run', { id: job.id });
  assert.equal((await waitForExecution(app, run.execution_id)).status, 'completed');

  await openSection('Overview', 'Overview');
  const card = page.getByRole('article', { name: 'Shop', exact: true });
  await card.waitFor();
  assert.match((await card.textContent()) ?? '', /Healthy.*Last backup.*(just now|minute).*Next run.*in /);
  const latency = page.getByRole('figure', { name: /^Latency of Shop, last (hour|24 hours)$/ });
  await latency.waitFor();
  assert.ok(Number(await latency.getAttribute('data-points')) >= 1);
  // The canvas really shows the data: pixels in the latency series' blue (#2f6fdb), not only axes and grid.
  const painted = await latency.locator('canvas').evaluate((c: HTMLCanvasElement) => {
    const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4)
      if (Math.abs(data[i]! - 47) + Math.abs(data[i + 1]! - 111) + Math.abs(data[i + 2]! - 219) < 40 && data[i + 3]! > 200) n++;
    return n;
  });
  await page.screenshot({ path: path.join(shots, 'overview.png'), fullPage: true });
  assert.ok(painted > 10, `${painted} pixels of the latency series`);
  await page.getByRole('figure', { name: 'Size and duration of Shop nightly, last run' }).waitFor();
});

test('a long inbox shows 50, then more on demand; Mark all read clears the bell', async () => {
  for (let n = 0; n < 60; n++) {
    await app.core.notifier.notify({
      type: 'restore_completed',
      severity: 'info',
      entity_type: 'system',
      entity_id: '00000000-0000-4000-8000-000000000000',
      title: `Backup number ${n}`,
      message: '',
    });
  }
  const total = (await call('notifications.list', { limit: 500 })).length;
  await page.goto(`${app.url}/#/notifications`);
  await page.getByRole('heading', { level: 1, name: 'Notifications' }).waitFor();
  const items = page.getByRole('list', { name: 'Notifications' }).getByRole('listitem');
  await page.getByRole('listitem', { name: 'Unread: Backup number 59' }).waitFor();
  assert.equal(await items.count(), 50);
  await page.getByRole('button', { name: 'Show more' }).click();
  await page.getByRole('listitem', { name: 'Connection lost: Shop', exact: true }).waitFor();
  assert.equal(await items.count(), total);
  assert.equal(await page.getByRole('button', { name: 'Show more' }).count(), 0, 'nothing more to show');

  await page.getByRole('button', { name: 'Mark all read' }).click();
  await bell().waitFor({ state: 'detached' });
  assert.equal(await page.getByRole('listitem', { name: /^Unread: / }).count(), 0);
  assert.equal((await call('notifications.unreadCount')).unread, 0);
});
