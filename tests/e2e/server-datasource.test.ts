// The datasource form's "Every database on this server", in Debian's Chromium against the real app: the
// server's databases listed with their sizes and which the patterns pick, before anything is saved.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startPostgres, type PgServer } from '../harness/index.js';
import { startApp, type AppUnderTest } from '../support/app.js';
import { runJob } from '../support/backups.js';
import { pgServerWithDatabases, READER } from '../support/servers.js';

const staticDir = path.resolve(import.meta.dirname, '../../dist/renderer');

let app: AppUnderTest;
let pg: PgServer;
let browser: Browser;
let page: Page;
/** The server backup the restore tests share. */
let serverBackupId: string;

before(async () => {
  [pg, app] = await Promise.all([pgServerWithDatabases(), startApp({ staticDir })]);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(20_000);
  await page.goto(`${app.url}/?token=${app.token}`);
});

after(async () => {
  await browser?.close();
  await app?.stop();
  await pg?.stop();
});

test('every database on this server: the live list and which the patterns pick', async () => {
  await page.goto(`${app.url}/#/datasources/new`);
  await page.getByLabel('Host').fill(pg.host);
  await page.getByLabel('Port').fill(String(pg.port));
  await page.getByLabel('Username').fill(pg.user);
  await page.getByLabel('Password').fill(pg.password);
  await page.getByLabel('Every database on this server').check();
  await page.getByLabel('Exclude databases').fill('*_tmp');
  await page.getByRole('button', { name: 'Show the databases' }).click();
  const table = page.getByRole('table', { name: 'Databases on this server' });
  await table.waitFor();
  const text = await table.innerText();
  assert.match(text, /Vendas 2026 ção\s+[\d.]+ (KB|MB)\s+Backed up/);
  assert.match(text, /scratch_tmp\s+[\d.]+ (KB|MB)\s+Left out by an exclude pattern/);
  assert.match(text, /template1\s+[\d.]+ (KB|MB)\s+System database, left out/);
  assert.match(await page.locator('main').innerText(), /4 of 7 databases will be backed up/);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 1280, `the page is ${width} px wide`);
});

test('the restore dialog of a server backup picks one database or all, and restores one under a new name', async () => {
  const call = async (channel: string, input: unknown) => {
    const r = await app.rpc(channel, input);
    assert.ok(r.body.ok, r.text);
    return r.body.data;
  };
  const storageDir = path.join(pg.dir, 'storage');
  mkdirSync(storageDir);
  const storage = await call('storages.create', { name: 'Local', type: 'local', config: { path: storageDir } });
  const ds = await call('datasources.create', {
    name: 'Sales server',
    type: 'postgres',
    connection_config: { host: pg.host, port: pg.port, username: pg.user, password: pg.password, all_databases: true, exclude: ['*_tmp'] },
  });
  const backup = await runJob(app, { name: 'Sales server', datasource_id: ds.id, storage_location_id: storage.id, backup_options: { compression: 'zstd' } });
  assert.equal(backup.status, 'completed', backup.error_message);
  serverBackupId = backup.id;

  await page.goto(`${app.url}/#/backups`);
  await page.getByRole('table', { name: 'Datasources with backups' }).getByRole('link', { name: 'Sales server' }).click();
  const row = page.getByRole('table', { name: 'Backups' }).locator('tbody tr').first();
  await row.getByRole('button', { name: /^Restore the backup of/ }).click();
  const dialog = page.getByRole('dialog', { name: 'Restore a backup' });
  await dialog.waitFor();
  const options = await dialog.getByLabel('Databases').locator('option').allInnerTexts();
  assert.equal(options[0], 'All 4 databases');
  assert.ok(options.some((o) => o.startsWith('Vendas 2026 ção (')));
  await dialog.getByLabel('Databases').selectOption('Vendas 2026 ção');
  await dialog.getByLabel('Restore into').selectOption('new_database');
  await dialog.getByLabel('New database name').fill('vendas_e2e_tmp');
  await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
  await page.getByText('Completed', { exact: true }).first().waitFor({ timeout: 60_000 });
  const [copy] = await pg.query<{ n: string }>('SELECT count(*)::text AS n FROM items', 'vendas_e2e_tmp');
  const [original] = await pg.query<{ n: string }>('SELECT count(*)::text AS n FROM items', 'Vendas 2026 ção');
  assert.equal(copy!.n, original!.n);
});

test("a server backup's Contents, one database at a time: tick a table of it and restore it into a new database", async () => {
  await page.goto(`${app.url}/#/activity/${serverBackupId}`);
  await page.getByRole('tab', { name: 'Contents' }).click();
  await page.getByLabel('Database', { exact: true }).selectOption('Vendas 2026 ção');
  await page.getByText('in database Vendas 2026 ção of this backup').waitFor();
  const table = page.getByRole('table', { name: 'Tables in this backup' });
  await table.getByRole('checkbox', { name: 'Choose public.items' }).check();
  assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 1280, 'nothing wider than the window');
  await page.getByRole('button', { name: 'Restore this table…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Restore a backup' });
  await dialog.waitFor();
  assert.match(await dialog.innerText(), /1 chosen table/);
  assert.equal(await dialog.getByLabel('Databases').inputValue(), 'Vendas 2026 ção');
  assert.equal(await dialog.getByLabel('Databases').locator('option').count(), 1, 'the tables are of the database they were chosen in');
  assert.equal(await dialog.getByLabel('Restore into').inputValue(), 'new_database', 'a new database unless asked');
  await dialog.getByLabel('New database name').fill('vendas_items_tmp');
  await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: /^Restore/ }).waitFor();
  await page.getByText('Completed', { exact: true }).first().waitFor({ timeout: 60_000 });
  const [copy] = await pg.query<{ n: string }>('SELECT count(*)::text AS n FROM items', 'vendas_items_tmp');
  const [original] = await pg.query<{ n: string }>('SELECT count(*)::text AS n FROM items', 'Vendas 2026 ção');
  assert.equal(copy!.n, original!.n);
  const views = await pg.query("SELECT 1 FROM pg_views WHERE viewname = 'cheap'", 'vendas_items_tmp');
  assert.equal(views.length, 0, 'only the chosen table');
});

test("the Backups tab of a server: each database's history (a failed one in a partial run shown failed), and two chosen restored into an empty server", async () => {
  const call = async (channel: string, input: unknown) => {
    const r = await app.rpc(channel, input);
    assert.ok(r.body.ok, r.text);
    return r.body.data;
  };
  const storageDir = path.join(pg.dir, 'storage-tab');
  mkdirSync(storageDir);
  const storage = await call('storages.create', { name: 'Server copies', type: 'local', config: { path: storageDir } });
  const ds = await call('datasources.create', {
    name: 'Reader server',
    type: 'postgres',
    connection_config: { host: pg.host, port: pg.port, username: READER.user, password: READER.password, all_databases: true, exclude: ['*_tmp'] },
  });
  const job = { name: 'Reader server', datasource_id: ds.id, storage_location_id: storage.id, backup_options: { compression: 'zstd' } };
  const first = await runJob(app, job);
  assert.equal(first.status, 'completed', first.error_message);
  // The newer run cannot read shop: partial, shop failed in it.
  await pg.query('REVOKE CONNECT ON DATABASE shop FROM PUBLIC');
  let second;
  try {
    second = await runJob(app, job);
  } finally {
    await pg.query('GRANT CONNECT ON DATABASE shop TO PUBLIC');
  }
  assert.equal(second.status, 'partial', second.error_message);
  const empty = await startPostgres();
  try {
    await call('datasources.create', {
      name: 'Empty server',
      type: 'postgres',
      connection_config: { host: empty.host, port: empty.port, username: empty.user, password: empty.password, all_databases: true },
    });

    await page.goto(`${app.url}/#/backups/${ds.id}`);
    const table = page.getByRole('table', { name: 'Databases of this server' });
    await table.waitFor();
    const shop = table.locator('tbody tr', { hasText: 'shop' }).first();
    assert.match(await shop.innerText(), /Failed\s+last good/);
    assert.match(await shop.innerText(), /1 of 2 runs/);
    await shop.getByRole('button', { name: 'Show the history of shop' }).click();
    const runs = page.getByRole('list', { name: 'Backups of shop' });
    assert.match(await runs.innerText(), /Failed[^\n]*permission denied/);
    assert.match(await runs.innerText(), /Backed up [\d.]+ (KB|MB) · /);
    const vendas = await table.locator('tbody tr', { hasText: 'Vendas 2026 ção' }).innerText();
    assert.match(vendas, /[\d.]+ (KB|MB)\s+(under 1 s|\d+ s)\s+2 times/);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 1280, `the page is ${width} px wide`);

    await table.getByRole('checkbox', { name: 'Vendas 2026 ção' }).check();
    await table.getByRole('checkbox', { name: `it's a "db"` }).check();
    await page.getByRole('button', { name: 'Restore the 2 chosen databases' }).click();
    const dialog = page.getByRole('dialog', { name: 'Restore a backup' });
    await dialog.waitFor();
    assert.match(await dialog.getByLabel('Databases').locator('option:checked').innerText(), /The 2 chosen: /);
    await dialog.getByLabel('Restore into').selectOption('other');
    await dialog.getByLabel('Datasource', { exact: true }).selectOption({ label: 'Empty server' });
    await dialog.getByLabel('Type Empty server to confirm').fill('Empty server');
    await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
    await page.getByText('Completed', { exact: true }).first().waitFor({ timeout: 60_000 });
    for (const db of ['Vendas 2026 ção', `it's a "db"`]) {
      const [copy] = await empty.query<{ n: string }>('SELECT count(*)::text AS n FROM items', db);
      const [original] = await pg.query<{ n: string }>('SELECT count(*)::text AS n FROM items', db);
      assert.equal(copy!.n, original!.n, db);
    }
    assert.equal((await empty.query(`SELECT 1 FROM pg_database WHERE datname = 'shop'`)).length, 0, 'only the chosen are restored');
  } finally {
    await empty.stop();
  }
});

test('the job form of a server datasource: how many databases at a time, checked', async () => {
  await page.goto(`${app.url}/#/jobs`);
  await page.getByRole('button', { name: 'Add backup job' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Two at a time');
  await page.getByLabel('Datasource').selectOption({ label: 'Sales server (PostgreSQL)' });
  const field = page.getByLabel('Databases at a time');
  await field.fill('0');
  await field.blur();
  await page.getByText('At least 1 database at a time').waitFor();
  await field.fill('2');
  await page.getByRole('button', { name: 'Save job' }).click();
  await page.getByRole('heading', { level: 1, name: 'Backup jobs' }).waitFor();
  const jobs = (await app.rpc('jobs.list', {})).body.data;
  assert.equal(jobs.find((j: { name: string }) => j.name === 'Two at a time').backup_options.parallel_databases, 2);
});
