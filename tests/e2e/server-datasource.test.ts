// The datasource form's "Every database on this server", in Debian's Chromium against the real app: the
// server's databases listed with their sizes and which the patterns pick, before anything is saved.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { PgServer } from '../harness/index.js';
import { startApp, type AppUnderTest } from '../support/app.js';
import { runJob } from '../support/backups.js';
import { pgServerWithDatabases } from '../support/servers.js';

const staticDir = path.resolve(import.meta.dirname, '../../dist/renderer');

let app: AppUnderTest;
let pg: PgServer;
let browser: Browser;
let page: Page;

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
