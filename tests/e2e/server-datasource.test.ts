// The datasource form's "Every database on this server", in Debian's Chromium against the real app: the
// server's databases listed with their sizes and which the patterns pick, before anything is saved.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { PgServer } from '../harness/index.js';
import { startApp, type AppUnderTest } from '../support/app.js';
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
