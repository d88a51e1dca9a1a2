// A folder job as a new user meets it, in Debian's Chromium against the real app (core and HTTP server in
// this process, on a clock the test moves, serving the built renderer): a scheduled success stays quiet,
// a failure raises the bell by one, Run now shows one toast, every page speaks of files (never tables or
// rows), and the restore dialog's defaults put a folder back where it came from.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { removeTempDir, tempDir } from '../harness/index.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';
import { ManualClock } from '../support/clock.js';

const root = path.resolve(import.meta.dirname, '../..');
const staticDir = path.join(root, 'dist/renderer');
const CHROMIUM = '/usr/bin/chromium';
/** What a folder's pages must not say: a database's words. */
const DATABASE_WORDS = /\b(tables?|rows?|database version|parallel)\b/i;

let app: AppUnderTest;
let clock: ManualClock;
let work: string;
let source: string;
let browser: Browser;
let page: Page;
let job: Json;

async function call(channel: string, input: unknown = {}) {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, `${channel}: ${r.text}`);
  return r.body.data;
}

const unread = async (): Promise<number> => (await call('notifications.unreadCount')).unread;
const bellText = () => page.getByRole('navigation', { name: 'Main' }).getByTestId('unread-count');
const mainText = () => page.locator('main').innerText();

/** Until nothing is queued or running: a backup, then its verification and its cleanup. */
async function idle(timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    await app.core.scheduler.settled();
    const [{ n }] = await app.core.db.query(`SELECT count(*)::int AS n FROM backup_executions WHERE status IN ('queued', 'running')`);
    if (n === 0) return;
    assert.ok(Date.now() < until, `${n} run(s) still going`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The clock to the job's next slot: the scheduler claims it and the backup runs, with what follows it. */
async function nextSlot(): Promise<Json> {
  const [{ next }] = await app.core.db.query('SELECT next_execution_at AS next FROM backup_jobs WHERE id = $1', [job.id]);
  await clock.set(new Date(next.getTime() + 1000));
  await idle();
  const [run] = await app.core.db.query(
    `SELECT id, status, trigger FROM backup_executions WHERE job_id = $1 AND operation = 'backup' ORDER BY created_at DESC LIMIT 1`,
    [job.id],
  );
  return run;
}

before(async () => {
  assert.ok(existsSync(path.join(staticDir, 'index.html')), 'run `npm run build` first');
  work = await tempDir('dg-e2e-folder-', { owner: 'root', mode: 0o755 });
  source = path.join(work, 'Documents');
  mkdirSync(path.join(source, 'letters'), { recursive: true });
  for (let i = 0; i < 20; i++) writeFileSync(path.join(source, 'letters', `letter-${i}.txt`), `Dear customer ${i},\n`.repeat(200));
  writeFileSync(path.join(source, 'budget.csv'), 'month,total\njanuary,100\n');
  clock = new ManualClock(new Date());
  app = await startApp({ staticDir, clock });
  // Health checks on their own schedule would add notices of their own to the count this file watches.
  await call('settings.update', { 'system.health_check_interval_ms': 86_400_000 });
  const ds = await call('datasources.create', { name: 'Documents', type: 'files', connection_config: { source_path: source } });
  const storage = await call('storages.create', { name: 'USB disk', type: 'local', config: { path: path.join(work, 'usb') } });
  job = await call('jobs.create', {
    name: 'Documents every 10 minutes',
    datasource_id: ds.id,
    storage_location_ids: [storage.id],
    schedule_cron: '*/10 * * * *',
    max_retries: 0,
    backup_options: { compression: 'zstd', verify_after_backup: 'checksum' },
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(20_000);
  await page.goto(`${app.url}/?token=${app.token}`);
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
});

after(async () => {
  await browser?.close();
  await app?.stop();
  if (work) await removeTempDir(work);
});

test('a routine scheduled success leaves the bell as it was; a failure raises it by one', async () => {
  const before = await unread();
  const ok = await nextSlot();
  assert.deepEqual([ok.status, ok.trigger], ['completed', 'schedule']);
  assert.equal(await unread(), before, 'a success (and its verification and cleanup) is in Activity, not the inbox');
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  assert.equal(await bellText().count(), before ? 1 : 0);

  // The folder is gone at the next slot: the backup fails, and that needs the user.
  renameSync(source, `${source}.away`);
  try {
    const failed = await nextSlot();
    assert.equal(failed.status, 'failed');
  } finally {
    renameSync(`${source}.away`, source);
  }
  assert.equal(await unread(), before + 1);
  await page.waitForFunction((n) => document.querySelector('[data-testid="unread-count"]')?.textContent === `${n} unread`, before + 1);
});

test('Run now shows exactly one toast, naming the backup, when it ends; its verification and cleanup add none', async () => {
  await page.goto(`${app.url}/#/jobs`);
  // Every toast the page shows from now on, counted as it appears.
  await page.evaluate(`(() => {
    window.__toasts = [];
    new MutationObserver((changes) => {
      for (const c of changes) for (const n of c.addedNodes) if (n.classList && n.classList.contains('toast')) window.__toasts.push(n.textContent);
    }).observe(document.querySelector('.toasts'), { childList: true });
  })()`);
  await page.getByRole('button', { name: 'Run now: Documents every 10 minutes' }).click();
  await page.getByRole('heading', { level: 1, name: 'Documents every 10 minutes' }).waitFor();
  await page.getByText('Completed', { exact: true }).first().waitFor({ timeout: 60_000 });
  await idle();
  // The follow-ups' own status events have reached the page by now (they are a few ms after the rows).
  await page.waitForTimeout(500);
  const toasts = await page.evaluate<string[]>('window.__toasts');
  assert.deepEqual(toasts, ['Backup “Documents every 10 minutes” finished']);
  // A success goes by itself.
  await page.locator('.toast').waitFor({ state: 'detached', timeout: 10_000 });
});

test('a folder backup’s details, the job form and the restore speak of files, never tables, rows or a database', async () => {
  const [backup] = await app.core.db.query(
    `SELECT id FROM backup_executions WHERE job_id = $1 AND operation = 'backup' AND status = 'completed' ORDER BY created_at DESC LIMIT 1`,
    [job.id],
  );
  await page.goto(`${app.url}/#/activity/${backup.id}`);
  await page.getByRole('table', { name: 'Files' }).waitFor();
  const details = await mainText();
  assert.match(details, /Files\s*21\b/);
  assert.doesNotMatch(details, DATABASE_WORDS);

  await page.goto(`${app.url}/#/jobs/${job.id}/edit`);
  await page.getByLabel('Compression', { exact: true }).waitFor();
  assert.doesNotMatch(await mainText(), DATABASE_WORDS);

  await page.goto(`${app.url}/#/datasources`);
  await page.getByRole('button', { name: 'Check now: Documents' }).click();
  await page.getByText(/^Documents is readable: 21 files, \d+(\.\d)? KB$/).waitFor();
});

test('the restore dialog’s defaults put a folder back where it came from, after a safety backup', async () => {
  // Since the backup: a file changed, one deleted, one added.
  writeFileSync(path.join(source, 'budget.csv'), 'month,total\njanuary,999999\n');
  rmSync(path.join(source, 'letters', 'letter-3.txt'));
  writeFileSync(path.join(source, 'new.txt'), 'written after the backup\n');

  await page.goto(`${app.url}/#/backups`);
  await page.getByRole('table', { name: 'Datasources with backups' }).getByRole('link', { name: 'Documents' }).click();
  const row = page.getByRole('table', { name: 'Backups' }).locator('tbody tr').first();
  await row.getByText('USB disk: available').waitFor();
  await row.getByRole('button', { name: /^Restore the backup of/ }).click();
  const dialog = page.getByRole('dialog', { name: 'Restore a backup' });
  await dialog.waitFor();
  assert.equal(await dialog.getByLabel('Replace files that already exist').isChecked(), true, 'a folder onto itself replaces its files');
  assert.equal(await dialog.getByLabel('Back up the target first').isChecked(), true);
  assert.match(
    (await dialog.textContent()) ?? '',
    new RegExp(`This replaces the files in ${source} \\(Documents\\) that the backup holds \\(21 files, [\\d.]+ KB\\)`),
  );
  assert.doesNotMatch((await dialog.innerText()) ?? '', DATABASE_WORDS);
  // Naming the folder is all it asks.
  await dialog.getByLabel('Type Documents to confirm').fill('Documents');
  await dialog.getByRole('button', { name: 'Restore', exact: true }).click();

  await page.getByRole('heading', { level: 1, name: 'Restore · Documents every 10 minutes' }).waitFor();
  await page.getByText('Completed', { exact: true }).first().waitFor({ timeout: 60_000 });
  const details = await mainText();
  assert.match(details, /Files restored\s*21\b/);
  assert.match(details, /The folder now holds\s*22 files/, 'what the backup held, and the file added since');
  assert.match(details, /taken before the restore/);
  assert.doesNotMatch(details, DATABASE_WORDS);
  assert.equal(readFileSync(path.join(source, 'budget.csv'), 'utf8'), 'month,total\njanuary,100\n');
  assert.ok(existsSync(path.join(source, 'letters', 'letter-3.txt')), 'the deleted file is back');
  assert.ok(existsSync(path.join(source, 'new.txt')), 'a file the backup does not hold stays');
});

test('a backup pinned and one deleted by hand from the Backups tab; Restore and Verify on a backup’s own page', async () => {
  await page.goto(`${app.url}/#/backups/${job.datasource_id}`);
  const rows = page.getByRole('table', { name: 'Backups' }).locator('tbody tr');
  await rows.nth(1).waitFor();
  const [keep, drop] = [rows.nth(0), rows.nth(1)];
  const keepHref = await keep.locator('a.table__name').getAttribute('href');
  const dropLink = await drop.locator('a.table__name').getAttribute('href');
  const dropId = dropLink!.split('/').pop()!;
  const dropFolder = path.join(work, 'usb', (await call('executions.get', { id: dropId })).backup_path);
  assert.ok(existsSync(path.join(dropFolder, 'manifest.json')));

  // Pin the newest, with a reason: a pin shows on its line, and Delete is refused in its menu.
  await keep.getByRole('button', { name: /^More for the backup of/ }).click();
  await page.getByRole('menuitem', { name: 'Pin…' }).click();
  const pinDialog = page.getByRole('dialog', { name: /^Pin the backup of/ });
  await pinDialog.getByLabel('Why (optional)').fill('Before the office move');
  await pinDialog.getByRole('button', { name: 'Pin', exact: true }).click();
  await keep.getByRole('img', { name: /^Pinned .*: Before the office move\. Retention never deletes it\.$/ }).waitFor();
  await keep.getByRole('button', { name: /^More for the backup of/ }).click();
  assert.equal(await page.getByRole('menuitem', { name: 'Delete…' }).isDisabled(), true);
  await page.keyboard.press('Escape');

  // Delete the other by hand: gone from the storage and the tab, its run stays in Activity.
  await drop.getByRole('button', { name: /^More for the backup of/ }).click();
  await page.getByRole('menuitem', { name: 'Delete…' }).click();
  const deleteDialog = page.getByRole('dialog', { name: /^Delete the backup of/ });
  assert.match((await deleteDialog.textContent()) ?? '', /deleted from 1 storage \(USB disk\).*Its run stays in Activity/);
  await deleteDialog.getByRole('button', { name: 'Delete', exact: true }).click();
  await page.locator(`a[href="#/activity/${dropId}"]`).waitFor({ state: 'detached', timeout: 30_000 });
  assert.equal(existsSync(dropFolder), false, 'its folder is gone from the storage');
  await page
    .getByRole('status')
    .filter({ hasText: /^Deletion of the backup of .* finished$/ })
    .waitFor();
  await page.goto(`${app.url}/#/activity`);
  await page
    .getByRole('table', { name: 'Activity' })
    .locator('tbody tr')
    .filter({ has: page.locator(`a[href="#/activity/${dropId}"]`) })
    .getByText(/^Deleted by hand on /)
    .waitFor();

  // The pinned backup's own page: Restore and Verify are there.
  await page.goto(`${app.url}/${keepHref}`);
  await page.getByText(/^Pinned .*: Before the office move\. Retention never deletes it\.$/).waitFor();
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  await page
    .getByRole('status')
    .filter({ hasText: /^Checksum verification of the backup of .* finished$/ })
    .waitFor({ timeout: 30_000 });
  await page.getByRole('button', { name: 'Restore…' }).click();
  const restore = page.getByRole('dialog', { name: 'Restore a backup' });
  await restore.getByLabel('Replace files that already exist').waitFor();
  assert.equal(await restore.getByLabel('Replace files that already exist').isChecked(), true);
  await restore.getByRole('button', { name: 'Close' }).click();
  await restore.waitFor({ state: 'detached' });
});
