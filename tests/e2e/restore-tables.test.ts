// Taking tables out of a PostgreSQL backup from its page, in Debian's Chromium against the real app at 1280 px: the
// Contents tab lists the tables with a box to tick and an Export CSV link each; one ticked table restores into a new
// database (the default); the restore dialog's Choose… opens the same list.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { removeTempDir, startPostgres, tempDir, type PgServer } from '../harness/index.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';
import { runJob } from '../support/backups.js';

const root = path.resolve(import.meta.dirname, '../..');
const staticDir = path.join(root, 'dist/renderer');
const CHROMIUM = '/usr/bin/chromium';

let app: AppUnderTest;
let pg: PgServer;
let work: string;
let browser: Browser;
let page: Page;
let backup: Json;

async function call(channel: string, input: unknown = {}) {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, `${channel}: ${r.text}`);
  return r.body.data;
}

before(async () => {
  assert.ok(existsSync(path.join(staticDir, 'index.html')), 'run `npm run build` first');
  work = await tempDir('dg-e2e-tables-', { owner: 'root', mode: 0o755 });
  [app, pg] = await Promise.all([startApp({ staticDir }), startPostgres()]);
  const storage = await call('storages.create', { name: 'USB disk', type: 'local', config: { path: path.join(work, 'usb') } });
  await pg.createDatabase('shop');
  await pg.query(
    `CREATE TABLE customers (id serial PRIMARY KEY, name text);
     CREATE TABLE orders (id serial PRIMARY KEY, customer_id int REFERENCES customers(id), total int);
     INSERT INTO customers (name) SELECT 'c' || g FROM generate_series(1, 1200) g;
     INSERT INTO orders (customer_id, total) SELECT 1 + g % 1200, g FROM generate_series(1, 300) g;
     ANALYZE;`,
    'shop',
  );
  const ds = await call('datasources.create', {
    name: 'Shop',
    type: 'postgres',
    connection_config: { host: pg.host, port: pg.port, database: 'shop', username: pg.user, password: pg.password },
  });
  backup = await runJob(app, { name: 'Shop', datasource_id: ds.id, storage_location_ids: [storage.id], backup_options: { compression: 'zstd' } });
  assert.equal(backup.status, 'completed', backup.error_message);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(20_000);
  await page.goto(`${app.url}/?token=${app.token}`);
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
});

after(async () => {
  await browser?.close();
  await Promise.all([app?.stop(), pg?.stop()]);
  if (work) await removeTempDir(work);
});

test('the table list of a PostgreSQL backup: tick one table, restore it into a new database', async () => {
  await page.goto(`${app.url}/#/activity/${backup.id}`);
  await page.getByRole('tab', { name: 'Contents' }).click();
  const table = page.getByRole('table', { name: 'Tables in this backup' });
  await table.getByText('1,200').waitFor();
  // A table gets a box and an Export CSV link; a sequence neither.
  assert.equal(await table.getByRole('checkbox').count(), 2);
  const csv = table.getByRole('link', { name: 'Export public.orders as CSV' });
  assert.equal(await csv.getAttribute('href'), `./api/backups/${backup.id}/table.csv?name=public.orders`);
  assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 1280, 'nothing wider than the window');

  await table.getByRole('checkbox', { name: 'Choose public.orders' }).check();
  await page.getByRole('button', { name: 'Restore this table…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Restore a backup' });
  await dialog.waitFor();
  assert.match(await dialog.innerText(), /1 chosen table/);
  assert.equal(await dialog.getByLabel('Restore into').inputValue(), 'new_database', 'a new database unless asked');
  await dialog.getByLabel('New database name').fill('shop_orders');
  await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Restore · Shop' }).waitFor();
  await page.getByText('Completed', { exact: true }).first().waitFor({ timeout: 60_000 });
  await page.getByText('orders_customer_id_fkey → public.customers was not restored: the table was not chosen').first().waitFor();
  const [count] = await pg.query<{ n: string }>('SELECT count(*)::text AS n FROM orders', 'shop_orders');
  assert.equal(count!.n, '300');
  const others = await pg.query("SELECT 1 FROM pg_tables WHERE tablename = 'customers'", 'shop_orders');
  assert.equal(others.length, 0, 'only the chosen table');
});

test('the restore dialog of a database backup offers Everything or Choose…, which opens the table list', async () => {
  await page.goto(`${app.url}/#/activity/${backup.id}`);
  await page.getByRole('button', { name: 'Restore…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Restore a backup' });
  await dialog.getByLabel('What').selectOption('choose');
  await page.getByRole('table', { name: 'Tables in this backup' }).waitFor();
  assert.equal(await dialog.count(), 0);
});
