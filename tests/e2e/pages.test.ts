// Activity and Backups in the browser with more runs than a page: "Show older" adds the next page, each
// row once. The real app behind its HTTP server (built renderer, embedded PostgreSQL) in Debian's
// Chromium; the runs are generated in SQL. Needs `npm run build` first.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startHttpServer, type RunningServer } from '../../electron/server/http.js';
import { removeTempDir, tempDir } from '../harness/index.js';
import { startApp, type AppUnderTest } from '../support/app.js';

const root = path.resolve(import.meta.dirname, '../..');
const CHROMIUM = '/usr/bin/chromium';

let app: AppUnderTest;
let ui: RunningServer;
let work: string;
let browser: Browser;
let page: Page;
let datasourceId: string;

async function call(channel: string, input: unknown = {}) {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, r.text);
  return r.body.data;
}

const rows = (table: string) => page.getByRole('table', { name: table }).locator('tbody tr');

before(async () => {
  assert.ok(existsSync(path.join(root, 'dist/renderer/index.html')), 'run `npm run build` first');
  work = await tempDir('dg-e2e-pages-', { owner: 'root', mode: 0o755 });
  app = await startApp();
  ui = await startHttpServer(app.core, { host: '127.0.0.1', port: 0, token: app.token, staticDir: path.join(root, 'dist/renderer') });
  const source = path.join(work, 'source');
  mkdirSync(source);
  writeFileSync(path.join(source, 'a.txt'), 'a');
  const ds = await call('datasources.create', { name: 'Docs', type: 'files', connection_config: { source_path: source } });
  const storage = await call('storages.create', { name: 'Local', type: 'local', config: { path: path.join(work, 'storage') } });
  await call('jobs.create', { name: 'Docs', datasource_id: ds.id, storage_location_id: storage.id, schedule_cron: '0 3 1 1 *' });
  datasourceId = ds.id;
  // 260 runs, one a minute: 130 completed backups (each with a part and a copy), 130 failed.
  await app.core.db.query(
    `INSERT INTO backup_executions (job_id, datasource_id, storage_location_id, operation, status, started_at, finished_at, backup_path, metadata, created_at)
     SELECT NULL, $1, $2, 'backup', CASE WHEN g % 2 = 0 THEN 'failed' ELSE 'completed' END::execution_status, t, t, 'gen/' || g,
            jsonb_build_object('operation', 'backup', 'job_name', 'Generated ' || g, 'execution_logs', '[]'::jsonb), t
     FROM generate_series(1, 260) g, LATERAL (SELECT now() - g * interval '1 minute' AS t) x`,
    [ds.id, storage.id],
  );
  await app.core.db.query(
    `INSERT INTO backup_chunks (execution_id, chunk_number, file_path, size_bytes, checksum)
     SELECT id, 1, backup_path || '/backup.tar', 5, repeat('0', 64) FROM backup_executions WHERE status = 'completed'`,
  );
  await app.core.db.query(
    `INSERT INTO backup_copies (execution_id, storage_location_id, status, backup_path)
     SELECT id, storage_location_id, 'completed', backup_path FROM backup_executions WHERE status = 'completed'`,
  );
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 860 }, timezoneId: 'UTC' });
  page.setDefaultTimeout(20_000);
  await page.goto(`${ui.url}/?token=${app.token}`);
});

after(async () => {
  await browser?.close();
  await ui?.close();
  await app?.stop();
  if (work) await removeTempDir(work);
});

test('Activity shows the newest 200 runs, and "Show older runs" the rest, each once', async () => {
  await page.goto(`${ui.url}/#/activity`);
  await page.waitForFunction(() => document.querySelectorAll('table[aria-label="Activity"] tbody tr').length === 200);
  await page.getByRole('button', { name: 'Show older runs' }).click();
  await page.waitForFunction(() => document.querySelectorAll('table[aria-label="Activity"] tbody tr').length === 260);
  const names = await rows('Activity').locator('.table__name').allTextContents();
  assert.equal(new Set(names).size, 260, 'no run twice');
  assert.equal(await page.getByRole('button', { name: 'Show older runs' }).count(), 0, 'nothing older left');
});

test('a datasource\'s backups show 100, and "Show older backups" the other 30', async () => {
  await page.goto(`${ui.url}/#/backups/${datasourceId}`);
  await page.waitForFunction(() => document.querySelectorAll('table[aria-label="Backups"] tbody tr').length === 100);
  await page.getByRole('button', { name: 'Show older backups' }).click();
  await page.waitForFunction(() => document.querySelectorAll('table[aria-label="Backups"] tbody tr').length === 130);
  assert.equal(await page.getByRole('button', { name: 'Show older backups' }).count(), 0);
});
