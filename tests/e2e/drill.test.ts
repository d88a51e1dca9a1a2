// Drills as a user meets them, in Debian's Chromium against the real app serving the built renderer: the job
// form's drill fields (off by default, weekly suggested), the job's line "Last drill passed … · a full restore
// took …", the restore dialog saying how long a restore took before Restore is pressed, the Overview's RTO chart,
// and the printable drill report downloaded from the run.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { removeTempDir, tempDir } from '../harness/index.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';
import { waitForExecution } from '../support/backups.js';

const root = path.resolve(import.meta.dirname, '../..');
const staticDir = path.join(root, 'dist/renderer');
const CHROMIUM = '/usr/bin/chromium';

let app: AppUnderTest;
let work: string;
let browser: Browser;
let page: Page;
let job: Json;
let drill: Json;

async function call(channel: string, input: unknown = {}) {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, `${channel}: ${r.text}`);
  return r.body.data;
}

before(async () => {
  assert.ok(existsSync(path.join(staticDir, 'index.html')), 'run `npm run build` first');
  work = await tempDir('dg-e2e-drill-', { owner: 'root', mode: 0o755 });
  const source = path.join(work, 'Contracts');
  mkdirSync(source, { recursive: true });
  for (let i = 0; i < 12; i++) writeFileSync(path.join(source, `contract-${i}.txt`), `Clause ${i}\n`.repeat(300));
  app = await startApp({ staticDir });
  await call('settings.update', { 'system.health_check_interval_ms': 86_400_000 });
  const ds = await call('datasources.create', { name: 'Contracts', type: 'files', connection_config: { source_path: source } });
  const storage = await call('storages.create', { name: 'NAS share', type: 'local', config: { path: path.join(work, 'nas') } });
  job = await call('jobs.create', {
    name: 'Contracts nightly',
    datasource_id: ds.id,
    storage_location_ids: [storage.id],
    schedule_cron: '0 2 * * *',
    drill_cron: '0 4 * * 0',
    backup_options: { compression: 'zstd' },
  });
  const run = await call('jobs.run', { id: job.id });
  assert.equal((await waitForExecution(app, run.execution_id)).status, 'completed');
  const started = await call('jobs.drill', { id: job.id });
  drill = await waitForExecution(app, started.execution_id);
  assert.equal(drill.status, 'completed', drill.error_message);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  page.setDefaultTimeout(20_000);
  await page.goto(`${app.url}/?token=${app.token}`);
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
});

after(async () => {
  await browser?.close();
  await app?.stop();
  if (work) await removeTempDir(work);
});

test('the job says when its last drill passed and how long a full restore took', async () => {
  await page.goto(`${app.url}/#/jobs`);
  const line = page.getByTestId('last-drill');
  await line.waitFor();
  assert.match(await line.innerText(), /^Last drill passed just now · a full restore took \d+ s$/);
});

test('the job form: drills are off by default and suggest weekly; a job with a drill schedule shows it', async () => {
  await page.goto(`${app.url}/#/jobs/new`);
  const drills = page.getByRole('switch', { name: 'Restore drills on a schedule' });
  await drills.waitFor();
  assert.equal(await drills.isChecked(), false);
  await drills.check();
  assert.equal(await page.getByLabel('Drill schedule').inputValue(), '0 4 * * 0');
  await page.goto(`${app.url}/#/jobs/${job.id}/edit`);
  await page.getByRole('switch', { name: 'Restore drills on a schedule' }).waitFor();
  assert.equal(await page.getByRole('switch', { name: 'Restore drills on a schedule' }).isChecked(), true);
  assert.equal(await page.getByLabel('Which backup').inputValue(), 'latest');
});

test('the restore dialog says how long the last drill’s restore took, before Restore is pressed', async () => {
  await page.goto(`${app.url}/#/backups`);
  await page.getByRole('table', { name: 'Datasources with backups' }).getByRole('link', { name: 'Contracts' }).click();
  const row = page.getByRole('table', { name: 'Backups' }).locator('tbody tr').first();
  await row.getByRole('button', { name: /^Restore the backup of/ }).click();
  const dialog = page.getByRole('dialog', { name: 'Restore a backup' });
  await dialog.waitFor();
  assert.match(await dialog.getByTestId('restore-drill-time').innerText(), /^In its last drill \(just now\), a full restore of this job took \d+ s\.$/);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
});

test('the Overview charts the restore time per job', async () => {
  await page.goto(`${app.url}/#/`);
  await page.getByRole('figure', { name: /^Restore time measured by the drills of Contracts nightly/ }).waitFor();
});

test('the drill’s page shows its phases and checks, and its printable report downloads', async () => {
  await page.goto(`${app.url}/#/activity/${drill.id}`);
  await page.getByRole('heading', { level: 1, name: 'Drill · Contracts nightly' }).waitFor();
  await page.getByRole('table', { name: 'Phases' }).waitFor();
  for (const phase of ['Download', 'Checksums', 'Decrypt and decompress', 'Restore', 'Checks'])
    await page.getByRole('table', { name: 'Phases' }).getByRole('cell', { name: phase, exact: true }).waitFor();
  await page.getByRole('table', { name: 'Checks' }).getByRole('cell', { name: 'File hashes', exact: true }).waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download drill report' }).click()]);
  assert.match(download.suggestedFilename(), /^drill-Contracts-nightly-\d{4}-\d{2}-\d{2}_\d{6}\.html$/);
  const html = readFileSync((await download.path())!, 'utf8');
  assert.match(html, /<h1>Restore drill of Contracts nightly<\/h1>/);
  assert.match(html, /<td>NAS share<\/td>/);
});
