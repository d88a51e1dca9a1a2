// The UI in Debian's Chromium against the real headless server (dist/server/cli.js, built by `npm run build`)
// and a real PostgreSQL: add a datasource, a storage and a job through the forms, then reload and find them.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort, removeTempDir, startPostgres, tempDir, type PgServer } from '../harness/index.js';
import { Daemon, withPortRetry } from '../harness/process.js';

const root = path.resolve(import.meta.dirname, '../..');
const cli = path.join(root, 'dist/server/cli.js');
const shots = path.join(root, 'test-results');
const CHROMIUM = '/usr/bin/chromium';

let server: PgServer;
let app: Daemon;
let appUrl: string;
/** The address the server prints at start, with its token: what a user opens to sign in. */
let signInUrl: string;
let dataDir: string;
let storageDir: string;
let browser: Browser;
let page: Page;

async function startServer(): Promise<{ daemon: Daemon; url: string; signInUrl: string }> {
  return withPortRetry(async () => {
    const port = await freePort();
    const logFile = path.join(dataDir, 'server.log');
    const daemon = new Daemon('DataGuardian server', process.execPath, [cli, '--port', String(port), '--host', '127.0.0.1'], {
      logFile,
      // SIGTERM lets it stop its embedded PostgreSQL too.
      stopSignal: 'SIGTERM',
      exitSignal: 'SIGTERM',
    });
    const url = `http://127.0.0.1:${port}`;
    let printed: string | undefined;
    try {
      await daemon.waitUntilReady(async () => {
        const res = await fetch(`${url}/health`);
        if (res.status !== 200) throw new Error(`/health answered ${res.status}`);
        printed = /DataGuardian is running at (\S+)/.exec(readFileSync(logFile, 'utf8'))?.[1];
        if (!printed) throw new Error('the server has not printed its address yet');
      }, 90_000);
    } catch (e) {
      await daemon.stop();
      throw e;
    }
    return { daemon, url, signInUrl: printed! };
  });
}

/** The whole page as a window that tall would show it (sticky sidebar and form buttons in place). */
async function screenshot(name: string) {
  const viewport = page.viewportSize()!;
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: viewport.width, height: Math.max(height, viewport.height) });
  await page.screenshot({ path: path.join(shots, `${name}.png`) });
  await page.setViewportSize(viewport);
}

/** Every file under a folder, as paths relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => statSync(path.join(dir, f)).isFile());
}

/** The text of the row of a list table that names `name`. */
async function rowText(table: string, name: string): Promise<string> {
  const row = page.getByRole('table', { name: table }).getByRole('row').filter({ hasText: name });
  await row.waitFor();
  return (await row.textContent()) ?? '';
}

async function openSection(link: string, heading: string) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link }).click();
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

before(async () => {
  assert.ok(existsSync(cli), `${cli} is missing: run \`npm run build\` first`);
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
  mkdirSync(shots, { recursive: true });
  // Under /tmp and world-readable: the embedded metadata PostgreSQL runs as `postgres` and must reach it.
  dataDir = await tempDir('dg-e2e-app-', { owner: 'root', mode: 0o755 });
  // The server child inherits this process's environment (the harness's Daemon has no env option).
  process.env.DG_DATA_DIR = dataDir;
  storageDir = await tempDir('dg-e2e-storage-');
  server = await startPostgres();
  await server.createDatabase('shop');
  await server.query('CREATE TABLE orders (id serial PRIMARY KEY, total numeric NOT NULL); INSERT INTO orders (total) VALUES (9.5), (12)', 'shop');
  ({ daemon: app, url: appUrl, signInUrl } = await startServer());
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
  await server?.stop();
  if (dataDir) await removeTempDir(dataDir);
  if (storageDir) await removeTempDir(storageDir);
});

test('the printed address signs the browser in; without it the UI is not shown', async () => {
  // Without the token: the sign-in page, not the app.
  const refused = await page.goto(appUrl);
  assert.equal(refused?.status(), 401);
  await page.getByLabel('Token').waitFor();
  assert.equal(await page.getByRole('navigation', { name: 'Main' }).count(), 0);

  // The address printed at start: a cookie, then the same page without the token in the address bar.
  assert.match(signInUrl, new RegExp(`^${appUrl}/\\?token=[\\w-]{40,}$`));
  await page.goto(signInUrl);
  // The Overview is the landing page.
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  assert.equal(page.url(), `${appUrl}/`, 'the token is gone from the address bar');
  const cookie = (await page.context().cookies()).find((c) => c.name === 'dg_token');
  assert.ok(cookie, 'the browser keeps the token in a cookie');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
});

test('a datasource, a storage and a job added through the forms are listed after a reload', async () => {
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(appUrl);
  await page.getByText('Nothing to watch yet').waitFor();
  await openSection('Datasources', 'Datasources');

  // Datasources: empty state, then the form.
  await page.getByRole('heading', { level: 1, name: 'Datasources' }).waitFor();
  await page.getByText('No datasources yet').waitFor();
  await screenshot('1-datasources-empty');
  await page.getByRole('button', { name: 'Add datasource' }).click();
  await page.getByRole('heading', { level: 1, name: 'Add datasource' }).waitFor();
  await page.getByLabel('PostgreSQL').check();
  assert.equal(await page.getByLabel('Port', { exact: true }).inputValue(), '5432', 'the port starts at the type default');

  // Inline validation with the shared schema: leaving Host empty says so.
  await page.getByLabel('Host', { exact: true }).focus();
  await page.getByLabel('Host', { exact: true }).blur();
  await page.getByText('Host is required').waitFor();

  await page.getByLabel('Name', { exact: true }).fill('Shop database');
  await page.getByLabel('Tags').fill('production');
  await page.getByLabel('Tags').press('Enter');
  await page.getByLabel('Host', { exact: true }).fill(server.host);
  await page.getByLabel('Port', { exact: true }).fill(String(server.port));
  await page.getByLabel('Database', { exact: true }).fill('shop');
  await page.getByLabel('Username', { exact: true }).fill(server.user);

  // A wrong password: the save is refused with the reason, and "Save anyway" is offered.
  await page.getByLabel('Password', { exact: true }).fill('not-the-password');
  await page.getByRole('button', { name: 'Save datasource' }).click();
  const refusal = page.getByRole('alert').filter({ hasText: 'The connection test failed' });
  await refusal.waitFor();
  assert.match((await refusal.textContent()) ?? '', /auth failed/i);
  await page.getByRole('button', { name: 'Save anyway' }).waitFor();
  await screenshot('2a-datasource-save-refused');

  await page.getByLabel('Password', { exact: true }).fill(server.password);
  await page.getByRole('button', { name: 'Test connection' }).click();
  const result = page.getByRole('status', { name: 'Connection test result' });
  await result.waitFor();
  await result.getByText('OK', { exact: true }).waitFor();
  assert.match((await result.textContent()) ?? '', /\d+ ms/);
  await screenshot('2-datasource-form');
  await page.getByRole('button', { name: 'Save datasource' }).click();
  await page.getByRole('heading', { level: 1, name: 'Datasources' }).waitFor();
  const dsRow = await rowText('Datasources', 'Shop database');
  assert.match(dsRow, /PostgreSQL/);
  assert.match(dsRow, /healthy/i);
  assert.match(dsRow, /production/);

  // Editing never shows the stored password.
  await page.getByRole('button', { name: 'Actions for Shop database' }).click();
  await page.getByRole('menu', { name: 'Actions for Shop database' }).getByRole('menuitem', { name: 'Edit' }).click();
  const password = page.getByLabel('Password', { exact: true });
  await password.waitFor();
  assert.equal(await password.inputValue(), '');
  assert.match((await password.getAttribute('placeholder')) ?? '', /saved — leave empty to keep/);
  await page.getByRole('link', { name: 'Datasources' }).first().click();

  // Storage: a local folder.
  await openSection('Storage', 'Storage');
  await page.getByText('No storage yet').waitFor();
  await page.getByRole('button', { name: 'Add storage' }).click();
  await page.getByLabel('Local folder').check();
  await page.getByLabel('Name', { exact: true }).fill('Local backups');
  await page.getByLabel('Folder', { exact: true }).fill('backups');
  await page.getByLabel('Folder', { exact: true }).blur();
  await page.getByText('Folder must be an absolute path').waitFor();
  await page.getByLabel('Folder', { exact: true }).fill(storageDir);
  await page.getByRole('button', { name: 'Test storage' }).click();
  const storageTest = page.getByRole('status', { name: 'Connection test result' });
  await storageTest.getByText('OK', { exact: true }).waitFor();
  assert.match((await storageTest.textContent()) ?? '', /free/);
  await screenshot('2b-storage-form');
  await page.getByRole('button', { name: 'Save storage' }).click();
  await page.getByRole('heading', { level: 1, name: 'Storage' }).waitFor();
  const storageRow = await rowText('Storage locations', 'Local backups');
  assert.match(storageRow, /Default/, 'the first storage becomes the default');
  assert.match(storageRow, /healthy/i);

  // Backup job: a bad schedule is refused inline, a good one is described with its next runs.
  await openSection('Backup jobs', 'Backup jobs');
  await page.getByText('No backup jobs yet').waitFor();
  await page.getByRole('button', { name: 'Add backup job' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Nightly shop');
  await page.getByLabel('Datasource').selectOption({ label: 'Shop database (PostgreSQL)' });
  await page.getByRole('list', { name: 'Storages' }).getByText('Local backups').waitFor();
  await page.getByLabel('Timezone').fill('America/Sao_Paulo');
  await page.getByLabel('Schedule (cron)').fill('61 2 * * *');
  const cronError = page.locator('#job-cron-error');
  await cronError.waitFor();
  assert.match((await cronError.textContent()) ?? '', /Invalid schedule/);
  await page.getByText('Fix the schedule to see when it runs.').waitFor();
  await screenshot('3-job-form-bad-cron');
  await page.getByRole('button', { name: 'Save job' }).click();
  await page.getByRole('heading', { level: 1, name: 'Add backup job' }).waitFor();
  assert.equal(await page.getByRole('table', { name: 'Backup jobs' }).count(), 0, 'a bad schedule is not saved');

  await page.getByLabel('Schedule (cron)').fill('30 2 * * *');
  await cronError.waitFor({ state: 'detached' });
  const preview = page.getByLabel('Schedule preview');
  await preview.getByText('Every day at 02:30, America/Sao_Paulo').waitFor();
  assert.equal(await preview.getByRole('listitem').count(), 5, 'the next five runs are shown');
  await page.getByLabel('Compression', { exact: true }).selectOption('zstd');
  await page.getByLabel('Compression level').fill('25');
  await page.getByLabel('Compression level').blur();
  await page.getByText('zstd level must be 1–19').waitFor();
  await page.getByLabel('Compression level').fill('5');
  await screenshot('4-job-form');
  await page.getByRole('button', { name: 'Save job' }).click();
  await page.getByRole('heading', { level: 1, name: 'Backup jobs' }).waitFor();
  const jobRow = await rowText('Backup jobs', 'Nightly shop');
  assert.match(jobRow, /Shop database/);
  assert.match(jobRow, /Local backups/);
  assert.match(jobRow, /02:30, America\/Sao_Paulo/);

  // A datasource a job uses cannot be deleted: the dialog says why.
  await openSection('Datasources', 'Datasources');
  await page.getByRole('button', { name: 'Actions for Shop database' }).click();
  await page.getByRole('menuitem', { name: 'Delete…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete datasource “Shop database”?' });
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await dialog.getByText(/used by 1 backup job: Nightly shop/).waitFor();
  await screenshot('4a-delete-refused');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'detached' });

  // Settings: a change is saved through settings.update.
  await openSection('Settings', 'Settings');
  await page.getByText('Headless server').waitFor();
  await page.getByLabel('How many backups may run at once').fill('2');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByRole('status').filter({ hasText: 'Settings saved' }).waitFor();

  // A reload queries everything again: what was created is still there.
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
  assert.equal(await page.getByLabel('How many backups may run at once').inputValue(), '2');
  await screenshot('8-settings');
  await openSection('Datasources', 'Datasources');
  assert.match(await rowText('Datasources', 'Shop database'), /healthy/i);
  await screenshot('5-datasources');
  await openSection('Storage', 'Storage');
  assert.match(await rowText('Storage locations', 'Local backups'), /Default/);
  await screenshot('6-storages');
  await openSection('Backup jobs', 'Backup jobs');
  assert.match(await rowText('Backup jobs', 'Nightly shop'), /Shop database/);
  await screenshot('7-jobs');

  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
});

test('Run now shows the backup live, Cancel stops it and leaves nothing, a finished backup shows its details and downloads', async () => {
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await openSection('Backup jobs', 'Backup jobs');

  // Another session holds the table: pg_dump waits for its lock, so the backup stays running until cancelled.
  const locker = new pg.Client({ connectionString: server.url('shop') });
  await locker.connect();
  try {
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE orders IN ACCESS EXCLUSIVE MODE');
    await page.getByRole('button', { name: 'Run now: Nightly shop' }).click();
    await page.getByRole('heading', { level: 1, name: 'Nightly shop' }).waitFor();
    await page.getByText('Running', { exact: true }).first().waitFor();
    const bar = page.getByRole('progressbar', { name: 'Progress of Nightly shop' });
    await bar.waitFor();
    await screenshot('9-backup-running');
    await page.getByRole('button', { name: 'Cancel Nightly shop' }).click();
    await page.getByText('Cancelled', { exact: true }).first().waitFor();
    await bar.waitFor({ state: 'detached' });
  } finally {
    await locker.query('ROLLBACK').catch(() => undefined);
    await locker.end();
  }
  assert.deepEqual(filesUnder(storageDir), [], 'a cancelled backup leaves no file on the storage');

  await openSection('Backup jobs', 'Backup jobs');
  await page.getByRole('button', { name: 'Run now: Nightly shop' }).click();
  await page.getByRole('heading', { level: 1, name: 'Nightly shop' }).waitFor();
  await page.getByText('Completed', { exact: true }).first().waitFor({ timeout: 60_000 });
  await page.getByRole('table', { name: 'Files' }).waitFor();
  await screenshot('10-backup-details');
  const details = (await page.locator('main').textContent()) ?? '';
  const checksum = /sha256:([0-9a-f]{64})/.exec(details)?.[1];
  assert.ok(checksum, 'the details show the checksum');
  assert.match(details, /Database version\s*PostgreSQL 1\d/);
  assert.match(details, /Tables\s*1(?!\d)/);
  assert.match(details, /zstd, level 5/);
  assert.match(await rowText('Copies', 'Local backups'), /Completed/);
  assert.equal(await page.getByRole('table', { name: 'Files' }).locator('tbody tr').count(), 1);
  await page
    .getByRole('list', { name: 'Log' })
    .getByText(/Stored on Local backups/)
    .waitFor();

  // The browser's download is the joined backup: its SHA-256 is the one shown.
  const href = await page.getByRole('link', { name: 'Download Nightly shop' }).getAttribute('href');
  const download = await page.request.get(new URL(href!, page.url()).toString());
  assert.equal(download.status(), 200);
  assert.equal(
    createHash('sha256')
      .update(await download.body())
      .digest('hex'),
    checksum,
  );

  // The list: both runs, and the checksum verification the job asks for after each backup.
  await openSection('Activity', 'Activity');
  const rows = page.getByRole('table', { name: 'Activity' }).locator('tbody tr');
  // One line per backup: the verification the job asks for after each backup is on the backup's line.
  await rows.nth(0).filter({ hasText: 'verified ✓' }).waitFor();
  assert.equal(await rows.count(), 2);
  assert.match((await rows.nth(0).textContent()) ?? '', /Nightly shop.*Completed/);
  assert.match((await rows.nth(1).textContent()) ?? '', /Cancelled/);
  await rows
    .nth(0)
    .getByRole('button', { name: /^Show what followed/ })
    .click();
  await rows
    .nth(1)
    .filter({ hasText: /Verify \(checksum\).*Completed/ })
    .waitFor();
  await screenshot('11-activity');
  await page.getByLabel('Status').selectOption('cancelled');
  await page.waitForFunction(() => document.querySelectorAll('table[aria-label="Activity"] tbody tr').length === 1);
  assert.match((await rows.nth(0).textContent()) ?? '', /Cancelled/);

  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
});

test('Backups: pick the datasource, press Restore, confirm by name, and the data is back', async () => {
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await server.query('DELETE FROM orders', 'shop');

  await openSection('Backups', 'Backups');
  await page.getByRole('table', { name: 'Datasources with backups' }).getByRole('link', { name: 'Shop database' }).click();
  await page.getByRole('heading', { level: 1, name: 'Shop database' }).waitFor();
  const row = page.getByRole('table', { name: 'Backups' }).locator('tbody tr').first();
  await row.getByText('Local backups: available').waitFor();
  await screenshot('12-backups');
  await row.getByRole('button', { name: /^Restore the backup of/ }).click();

  const dialog = page.getByRole('dialog', { name: 'Restore a backup' });
  await dialog.waitFor();
  const restore = dialog.getByRole('button', { name: 'Restore', exact: true });
  assert.equal(await restore.isDisabled(), true, 'nothing happens until the target is named');
  await dialog.getByLabel('Type Shop database to confirm').fill('Shop database');
  await screenshot('13-restore-dialog');
  await restore.click();

  await page.getByRole('heading', { level: 1, name: 'Restore · Nightly shop' }).waitFor();
  await page.getByText('Completed', { exact: true }).first().waitFor({ timeout: 60_000 });
  const details = (await page.locator('main').textContent()) ?? '';
  assert.match(details, /Rows restored\s*2/);
  assert.match(details, /taken before the restore/, 'a safety backup was taken first');
  await screenshot('14-restore-done');
  assert.deepEqual(await server.query('SELECT total::text FROM orders ORDER BY id', 'shop'), [{ total: '9.5' }, { total: '12' }]);

  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
});

// That a schedule starts its backup by itself, and shows in Activity as "On schedule", is proven on a clock the test
// moves (tests/e2e/history.test.ts, tests/integration/scheduler.test.ts): waiting here for the next real minute cost a minute.
test('a job with a schedule is saved with its rules and listed with them', async () => {
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await openSection('Backup jobs', 'Backup jobs');
  await page.getByRole('button', { name: 'Add backup job' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Daily shop');
  await page.getByLabel('Datasource').selectOption({ label: 'Shop database (PostgreSQL)' });
  await page.getByRole('list', { name: 'Storages' }).getByText('Local backups').waitFor();
  await page.getByLabel('Timezone').fill('UTC');
  await page.getByLabel('Schedule (cron)').fill('0 3 * * *');
  await page.getByText('Every day at 03:00, UTC').first().waitFor();
  await page.getByLabel('When runs were missed').selectOption('skip');
  await page.getByRole('button', { name: 'Save job' }).click();
  await page.getByRole('heading', { level: 1, name: 'Backup jobs' }).waitFor();
  const jobRow = await rowText('Backup jobs', 'Daily shop');
  assert.match(jobRow, /Skips missed runs/);
  assert.match(jobRow, /2 retries/);
  await page.getByRole('switch', { name: 'Schedules running' }).waitFor();
  await page.getByText('Schedules running', { exact: true }).waitFor();
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
});

test('the job form previews which backups a retention rule keeps and deletes, with the reason for each', async () => {
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await openSection('Backup jobs', 'Backup jobs');
  await page.getByRole('link', { name: 'Nightly shop', exact: true }).click();
  const count = page.getByLabel('Backups to keep');
  await count.waitFor();
  await count.fill('1');
  // The job holds its backup and the safety backup taken before the restore: the newest stays, the other goes.
  const preview = page.getByRole('table', { name: 'Backups and what retention does with them' });
  const rows = preview.locator('tbody tr');
  await rows.nth(1).waitFor();
  assert.equal(await rows.count(), 2);
  assert.match((await rows.nth(0).textContent()) ?? '', /Kept.*newest/);
  assert.match((await rows.nth(1).textContent()) ?? '', /Deleted\s*Outside the rule/);
  await page.getByRole('region', { name: 'Retention preview' }).getByText('1 kept, 1 deleted').waitFor();
  await screenshot('16-retention-preview');
  // Leaving without saving deletes nothing.
  await openSection('Backup jobs', 'Backup jobs');
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
});
