// Looking inside a backup from its page, in Debian's Chromium against the real app: the Contents tab of a folder backup
// opens folders and finds a file by name; a PostgreSQL backup lists its tables with their rows.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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
let storage: Json;

async function call(channel: string, input: unknown = {}) {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, `${channel}: ${r.text}`);
  return r.body.data;
}

const contents = () => page.getByRole('tab', { name: 'Contents' });

before(async () => {
  assert.ok(existsSync(path.join(staticDir, 'index.html')), 'run `npm run build` first');
  work = await tempDir('dg-e2e-contents-', { owner: 'root', mode: 0o755 });
  [app, pg] = await Promise.all([startApp({ staticDir }), startPostgres()]);
  storage = await call('storages.create', { name: 'USB disk', type: 'local', config: { path: path.join(work, 'usb') } });
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

test('the Contents tab of a folder backup: open a folder, search a name, restore two files into a new folder', async () => {
  const source = path.join(work, 'Documents');
  mkdirSync(path.join(source, 'letters'), { recursive: true });
  for (let i = 0; i < 30; i++) writeFileSync(path.join(source, 'letters', `letter-${i}.txt`), `Dear customer ${i},\n`.repeat(100));
  writeFileSync(path.join(source, 'budget.csv'), 'month,total\njanuary,100\n');
  const ds = await call('datasources.create', { name: 'Documents', type: 'files', connection_config: { source_path: source } });
  const backup = await runJob(app, { name: 'Documents', datasource_id: ds.id, storage_location_ids: [storage.id], backup_options: { compression: 'zstd' } });
  assert.equal(backup.status, 'completed', backup.error_message);

  await page.goto(`${app.url}/#/activity/${backup.id}`);
  await contents().click();
  const table = page.getByRole('table', { name: 'Files in this backup' });
  await table.getByRole('button', { name: 'letters/' }).waitFor();
  assert.match(await table.innerText(), /budget\.csv\s+File\s+24 B/);
  await table.getByRole('button', { name: 'letters/' }).click();
  await table.getByText('letter-29.txt').waitFor();
  assert.equal(await table.locator('tbody tr').count(), 30);

  await page.getByRole('searchbox', { name: 'Search file names' }).fill('letter-1');
  await page.getByText('11 matches for “letter-1”').waitFor();
  assert.equal(await table.locator('tbody tr').count(), 11);

  // Two of them, restored into a new folder: the dialog offers a folder, never the source.
  await table.getByRole('checkbox', { name: 'Choose letters/letter-10.txt' }).check();
  await table.getByRole('checkbox', { name: 'Choose letters/letter-12.txt' }).check();
  await page.getByRole('button', { name: 'Restore 2 items…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Restore a backup' });
  await dialog.waitFor();
  assert.match(await dialog.innerText(), /2 chosen items/);
  const into = path.join(work, 'two-letters');
  await dialog.getByLabel('Folder', { exact: true }).fill(into);
  await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Restore · Documents' }).waitFor();
  await page.getByText('Completed', { exact: true }).first().waitFor({ timeout: 60_000 });
  assert.deepEqual((readdirSync(into, { recursive: true }) as string[]).sort(), ['letters', 'letters/letter-10.txt', 'letters/letter-12.txt']);
  assert.equal(readFileSync(path.join(into, 'letters', 'letter-12.txt'), 'utf8'), 'Dear customer 12,\n'.repeat(100));
});

test('the restore dialog of a folder backup offers Everything or Choose…, which opens the Contents', async () => {
  await page.getByRole('link', { name: 'open the backup' }).click();
  await page.getByRole('button', { name: 'Restore…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Restore a backup' });
  await dialog.getByLabel('What').selectOption('choose');
  await page.getByRole('table', { name: 'Files in this backup' }).waitFor();
  assert.equal(await dialog.count(), 0);
});

test('the Contents tab of a PostgreSQL backup lists its tables with their rows', async () => {
  await pg.createDatabase('shop');
  await pg.query(
    `CREATE TABLE customers (id serial PRIMARY KEY, name text);
     CREATE TABLE orders (id serial PRIMARY KEY, customer_id int REFERENCES customers(id));
     INSERT INTO customers (name) SELECT 'c' || g FROM generate_series(1, 1200) g;
     ANALYZE;`,
    'shop',
  );
  const ds = await call('datasources.create', {
    name: 'Shop',
    type: 'postgres',
    connection_config: { host: pg.host, port: pg.port, database: 'shop', username: pg.user, password: pg.password },
  });
  const backup = await runJob(app, { name: 'Shop', datasource_id: ds.id, storage_location_ids: [storage.id], backup_options: { compression: 'zstd' } });
  assert.equal(backup.status, 'completed', backup.error_message);
  await page.goto(`${app.url}/#/activity/${backup.id}`);
  await contents().click();
  const table = page.getByRole('table', { name: 'Tables in this backup' });
  await table.getByText('1,200').waitFor();
  const text = await table.innerText();
  assert.match(text, /customers\s+public\s+Table\s+1,200\s+\d+ KB/);
  assert.match(text, /orders\s+public\s+Table/);
  assert.match(text, /orders_id_seq\s+public\s+Sequence/);
});
