// Activity as history, in Debian's Chromium against the real app (core and HTTP server in this process,
// serving the built renderer, embedded PostgreSQL, the schedule on a clock the test moves): who started
// each run, backups deleted by retention still open, and a burst of status events whose list replies the
// browser receives out of order. Needs `npm run build` first.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { removeTempDir, tempDir } from '../harness/index.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';
import { waitForExecution } from '../support/backups.js';
import { ManualClock } from '../support/clock.js';

const root = path.resolve(import.meta.dirname, '../..');
const staticDir = path.join(root, 'dist/renderer');
const CHROMIUM = '/usr/bin/chromium';

let app: AppUnderTest;
let clock: ManualClock;
let work: string;
let browser: Browser;
let page: Page;
let datasourceId: string;
let storageId: string;

async function call(channel: string, input: unknown = {}) {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, r.text);
  return r.body.data;
}

/** Waits until the job has run these operations and nothing of it is queued or running (follow-ups start a moment after their backup). */
async function idle(jobId: string, operations: string[]) {
  for (const until = Date.now() + 60_000; ;) {
    const runs: Json[] = await call('executions.list', { job_id: jobId, limit: 100 });
    const ran = operations.every((op) => runs.some((e) => e.operation === op));
    if (ran && runs.every((e) => !['queued', 'running'].includes(e.status))) return runs;
    assert.ok(Date.now() < until, 'the job is still busy');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const activityRows = () => page.getByRole('table', { name: 'Activity' }).locator('tbody tr');

before(async () => {
  assert.ok(existsSync(path.join(staticDir, 'index.html')), `${staticDir} is missing: run \`npm run build\` first`);
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
  work = await tempDir('dg-e2e-history-', { owner: 'root', mode: 0o755 });
  clock = new ManualClock('2026-12-07T10:10:00Z');
  app = await startApp({ staticDir, clock });
  // Routine successes are quiet by default (Activity only); this file follows a backup's notification.
  await call('settings.update', { 'notifications.routing': { backup_success: 'inbox' } });
  const source = path.join(work, 'source');
  mkdirSync(source);
  writeFileSync(path.join(source, 'minutes.txt'), 'the board met\n');
  datasourceId = (await call('datasources.create', { name: 'Minutes', type: 'files', connection_config: { source_path: source } })).id;
  storageId = (await call('storages.create', { name: 'Disk', type: 'local', config: { path: path.join(work, 'storage') } })).id;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 860 }, timezoneId: 'UTC' });
  page.setDefaultTimeout(20_000);
  await page.goto(`${app.url}/?token=${app.token}`);
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
});

after(async () => {
  await browser?.close();
  await app?.stop();
  if (work) await removeTempDir(work);
});

test('after a scheduled backup, its verification says "After a backup" and the backup "On schedule"', async () => {
  const job = await call('jobs.create', {
    name: 'Minutes hourly',
    datasource_id: datasourceId,
    storage_location_id: storageId,
    schedule_cron: '0 * * * *',
    schedule_timezone: 'UTC',
    backup_options: { verify_after_backup: 'checksum' },
  });
  await clock.set('2026-12-07T11:00:00Z');
  await app.core.scheduler.settled();
  const runs = await idle(job.id, ['backup', 'verify']);
  const verify = runs.find((e) => e.operation === 'verify');
  const backup = runs.find((e) => e.operation === 'backup');
  assert.equal(backup?.trigger, 'schedule');
  assert.equal(verify?.trigger, 'after_backup');

  await page.goto(`${app.url}/#/activity/job/${job.id}`);
  // The verification is on its backup's line, and under it once opened.
  const backupRow = activityRows().filter({ has: page.locator(`a[href="#/activity/${backup.id}"]`) });
  await backupRow.getByText('verified ✓').waitFor();
  await backupRow.getByRole('button', { name: /^Show what followed/ }).click();
  const verifyRow = activityRows().filter({ has: page.locator(`a[href="#/activity/${verify.id}"]`) });
  assert.equal((await verifyRow.locator('td[data-trigger]').textContent())?.trim(), 'After a backup');
  assert.match((await backupRow.locator('td[data-trigger]').textContent()) ?? '', /^On schedule/);
});

test('a backup deleted by retention stays in Activity, and its notification still opens its details', async () => {
  const job = await call('jobs.create', {
    name: 'Minutes, keep one',
    datasource_id: datasourceId,
    storage_location_id: storageId,
    schedule_cron: '0 3 * * *',
    retention_policy: { max_backups: 1 },
  });
  const first = await call('jobs.run', { id: job.id });
  await waitForExecution(app, first.execution_id);
  await clock.advance(60_000);
  await waitForExecution(app, (await call('jobs.run', { id: job.id })).execution_id);
  await idle(job.id, ['backup', 'cleanup']);
  assert.ok((await call('executions.get', { id: first.execution_id })).deleted_at, 'retention deleted the first');

  await page.goto(`${app.url}/#/activity/job/${job.id}`);
  const row = activityRows().filter({ has: page.locator(`a[href="#/activity/${first.execution_id}"]`) });
  await row.getByText(/^Deleted by retention on /).waitFor();
  assert.equal(await row.getByRole('link', { name: /Download/ }).count(), 0, 'nothing left to download');

  await page.goto(`${app.url}/#/notifications`);
  const notice = page
    .locator('li, article')
    .filter({ has: page.locator(`a[href="#/activity/${first.execution_id}"]`) })
    .first();
  await notice.getByRole('link', { name: 'Run details' }).click();
  await page.getByText(/^Deleted by retention on .*: its files are gone from every storage/).waitFor();
  await page.getByRole('heading', { level: 1, name: 'Minutes, keep one' }).waitFor();
});

test('a burst of 50 status events whose list replies arrive out of order leaves Activity equal to the server', async () => {
  // Thirty ended runs of a job the queue never picks up (failed or cancelled), whose status the test flips.
  const job = await call('jobs.create', { name: 'Burst', datasource_id: datasourceId, storage_location_id: storageId, schedule_cron: '0 3 * * *' });
  const rows = (await app.core.db.query(
    `INSERT INTO backup_executions (job_id, datasource_id, storage_location_id, operation, status, backup_type, metadata, finished_at)
     SELECT $1, $2, $3, 'backup', 'failed', 'full', '{"execution_logs": []}', now() FROM generate_series(1, 30)
     RETURNING id`,
    [job.id, datasourceId, storageId],
  )) as { id: string }[];
  await page.goto(`${app.url}/#/activity/job/${job.id}`);
  await page.reload();
  await activityRows().nth(29).waitFor();

  // The first reply of the burst is the oldest: it is held back until the burst is over and every other
  // reply has landed, so it lands last, as a slow answer does on a busy machine.
  let asked = 0;
  let answered = 0;
  let burstOver = false;
  await page.route('**/api/rpc/executions.list', async (route) => {
    const first = asked++ === 0;
    const response = await route.fetch();
    while (first && !(burstOver && answered === asked - 1)) await new Promise((r) => setTimeout(r, 50));
    await route.fulfill({ response });
    answered++;
  });
  for (let i = 0; i < 50; i++) {
    const id = rows[i % rows.length]!.id;
    const status = i % 2 ? 'cancelled' : 'failed';
    await app.core.db.query(`UPDATE backup_executions SET status = $2 WHERE id = $1`, [id, status]);
    app.core.events.emit('execution.status', { execution_id: id, job_id: job.id, status, error_message: null });
    await new Promise((r) => setTimeout(r, 10));
  }
  // The events have reached the page (its requests after the last one), then the held reply may go.
  await new Promise((r) => setTimeout(r, 1_000));
  burstOver = true;
  // Every reply the page asked for has landed, the held one included, and nothing more is asked.
  for (let quiet = 0; quiet < 5;) {
    await new Promise((r) => setTimeout(r, 200));
    quiet = answered === asked ? quiet + 1 : 0;
  }
  assert.ok(asked > 1, `${asked} list requests`);
  const truth = (await call('executions.list', { job_id: job.id, limit: 100 })).map((e: Json) => `${e.id} ${e.status}`);
  const shown = await activityRows().evaluateAll((trs) =>
    trs.map(
      (tr) => `${tr.querySelector('a.table__name')!.getAttribute('href')!.split('/').pop()} ${tr.querySelector('[data-status]')!.getAttribute('data-status')}`,
    ),
  );
  assert.deepEqual(shown, truth);
  await page.unroute('**/api/rpc/executions.list');
});
