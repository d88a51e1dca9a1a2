// Every page at 1280×800 with the data of a real office (20 jobs with long names, 200 runs, a day of
// health checks), in Debian's Chromium against the real app (core and HTTP server in this process,
// serving the built renderer). Nothing scrolls sideways, axe-core finds no serious or critical
// problem, and each main page is photographed into docs/screenshots/ for the README, so the pictures
// there are always of the app as it is. The runs are rows written in SQL, not 200 real backups.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { chromium, type Browser, type Page } from 'playwright-core';
import { removeTempDir, tempDir } from '../harness/index.js';
import { startApp, type AppUnderTest } from '../support/app.js';

const root = path.resolve(import.meta.dirname, '../..');
const staticDir = path.join(root, 'dist/renderer');
const screenshots = path.join(root, 'docs/screenshots');
const CHROMIUM = '/usr/bin/chromium';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let app: AppUnderTest;
let work: string;
let browser: Browser;
let page: Page;
const ids: { datasource: string; backup: string; restore: string; cleanup: string; job: string } = {
  datasource: '',
  backup: '',
  restore: '',
  cleanup: '',
  job: '',
};

async function call(channel: string, input: unknown = {}) {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, r.text);
  return r.body.data;
}

const DEPARTMENTS = [
  'Accounting',
  'Human resources',
  'Sales and customer relations',
  'Design studio',
  'Warehouse and logistics',
  'Front desk',
  'Legal and compliance',
  'Marketing',
  'Research and development',
  'Management',
];

/** Datasources, storages and 20 jobs through the API; 200 runs, their files and a day of health checks in SQL. */
async function seed() {
  const folder = (name: string) => {
    const dir = path.join(work, name);
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < 5; i++) writeFileSync(path.join(dir, `file-${i}.txt`), `content ${i}\n`.repeat(100 * (i + 1)));
    return dir;
  };
  const sqliteFile = path.join(work, 'pos.db');
  const db = new Database(sqliteFile);
  db.exec('CREATE TABLE sales (id INTEGER PRIMARY KEY, total REAL); INSERT INTO sales (total) VALUES (9.5), (12)');
  db.close();
  const datasources = [
    await call('datasources.create', {
      name: 'Shared documents of the accounting department (NAS-02)',
      type: 'files',
      connection_config: { source_path: folder('documents') },
      tags: ['office', 'nas'],
    }),
    await call('datasources.create', { name: 'Design studio project archive', type: 'files', connection_config: { source_path: folder('design') } }),
    await call('datasources.create', { name: 'Point of sale database', type: 'sqlite', connection_config: { file_path: sqliteFile }, tags: ['shop'] }),
    await call('datasources.create', { name: 'Scanned contracts and customer photos', type: 'files', connection_config: { source_path: folder('scans') } }),
  ];
  const storages = [
    await call('storages.create', { name: 'USB backup disk in the server room', type: 'local', config: { path: path.join(work, 'disk-a') } }),
    await call('storages.create', { name: 'Second copy on the office NAS', type: 'local', config: { path: path.join(work, 'disk-b') } }),
  ];
  const jobs = [];
  for (let n = 0; n < 20; n++) {
    const ds = datasources[n % datasources.length];
    jobs.push(
      await call('jobs.create', {
        name: `${DEPARTMENTS[n % DEPARTMENTS.length]} — ${n < 10 ? 'nightly full backup, kept for a month' : 'hourly copy during office hours'}`,
        datasource_id: ds.id,
        storage_location_ids: n % 3 === 0 ? [storages[0].id, storages[1].id] : [storages[n % 2].id],
        storage_strategy: n % 3 === 0 ? 'replicate' : 'fallback',
        schedule_cron: n < 10 ? `${n * 5} 2 * * *` : '0 8-18 * * 1-5',
        schedule_timezone: 'Europe/Lisbon',
        jitter_minutes: n % 4 === 0 ? 10 : 0,
        backup_options: { compression: 'zstd', verify_after_backup: n % 2 === 0 ? 'checksum' : 'none' },
      }),
    );
  }
  ids.datasource = datasources[0].id;
  ids.job = jobs[0].id;

  // 200 runs over the last two days, 10 per job: backups (one failed), the verification and cleanup that
  // follow a backup a second after it, and a restore. Oldest first, so a follow-up can name its backup.
  const now = Date.now();
  const pattern = ['backup', 'verify', 'cleanup', 'backup-failed', 'backup', 'verify', 'restore', 'backup', 'verify', 'cleanup'];
  const lastBackup = new Map<string, { id: string; end: Date }>();
  for (let step = 0; step < pattern.length; step++) {
    for (let n = 0; n < 20; n++) {
      const job = jobs[n];
      const ds = datasources.find((d) => d.id === job.datasource_id)!;
      const kind = pattern[step]!;
      const operation = kind.startsWith('backup') ? 'backup' : kind;
      const source = lastBackup.get(job.id);
      // A follow-up starts a second after its backup ended; the rest are spread over two days.
      const at =
        (operation === 'verify' || operation === 'cleanup') && source
          ? new Date(source.end.getTime() + (operation === 'verify' ? 1000 : 2000))
          : new Date(now - (pattern.length - step) * 4 * 3_600_000 - n * 60_000);
      const end = new Date(at.getTime() + (operation === 'backup' ? 72_000 : 9_000));
      const base = {
        job_name: job.name,
        datasource_name: ds.name,
        datasource_type: ds.type,
        execution_logs: [{ at: at.toISOString(), level: 'info', message: 'Started' }],
      };
      const status = kind === 'backup-failed' ? 'failed' : 'completed';
      const completedBackup = operation === 'backup' && status === 'completed';
      const metadata =
        operation === 'backup'
          ? {
              ...base,
              artifact: ds.type === 'files' ? 'backup.tar.zst' : 'backup.db.zst',
              compression: 'zstd',
              compression_level: 3,
              checksum: `sha256:${'ab'.repeat(32)}`,
              ...(ds.type === 'files' ? { files_count: 55 } : { database_version: 'SQLite 3.45.1', tables_backed_up: 1, rows_approximate: 2 }),
            }
          : operation === 'verify'
            ? {
                ...base,
                source_execution_id: source!.id,
                method: 'checksum',
                verification: {
                  execution_id: '00000000-0000-4000-8000-000000000001',
                  method: 'checksum',
                  at: end.toISOString(),
                  ok: true,
                  message: 'Every file of 1 copy matches its SHA-256',
                  tables: null,
                  rows: null,
                  copies: [],
                },
              }
            : operation === 'cleanup'
              ? {
                  ...base,
                  trigger: 'after_backup',
                  deleted: [
                    {
                      execution_id: source!.id,
                      started_at: at.toISOString(),
                      reason: 'Outside the rule',
                      bytes: 1_204_000,
                      storages: ['USB backup disk in the server room'],
                    },
                  ],
                  kept: 3,
                  bytes_freed: 1_204_000,
                }
              : {
                  ...base,
                  source_execution_id: source!.id,
                  storage_location_id: null,
                  target_database: null,
                  target_path: null,
                  safety_backup: true,
                  overwrite: true,
                  target: ds.name,
                  rows_restored: 55,
                };
      const [row] = await app.core.db.query(
        `INSERT INTO backup_executions (job_id, datasource_id, storage_location_id, operation, status, trigger, started_at, finished_at, duration_seconds,
           size_bytes, compressed_size_bytes, backup_path, files_count, error_message, metadata, created_at, attempt, backup_type, scheduled_for)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $7, 1, 'full', $16) RETURNING id`,
        [
          job.id,
          ds.id,
          job.storage_location_id,
          operation,
          status,
          operation === 'backup' && n % 7 !== 0 ? 'schedule' : operation === 'verify' || operation === 'cleanup' ? 'after_backup' : 'manual',
          at,
          end,
          Math.round((end.getTime() - at.getTime()) / 1000),
          completedBackup || operation === 'restore' ? 3_645_312 + n * 1000 : null,
          completedBackup || operation === 'restore' ? 1_204_000 + n * 300 : null,
          completedBackup ? `${job.id}/${at.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '_')}` : null,
          ds.type === 'files' && (completedBackup || operation === 'restore') ? 55 : null,
          status === 'failed' ? `Folder not found: /srv/${ds.name.toLowerCase().replace(/\W+/g, '-')}` : null,
          JSON.stringify(metadata),
          operation === 'backup' && n % 7 !== 0 ? at : null,
        ],
      );
      if (completedBackup) {
        lastBackup.set(job.id, { id: row.id, end });
        const folder = `${job.id}/${at.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '_')}`;
        await app.core.db.query(
          `INSERT INTO backup_chunks (execution_id, chunk_number, file_path, size_bytes, checksum) VALUES ($1, 1, $2 || '/backup.tar.zst', 1204000, $3)`,
          [row.id, folder, 'ab'.repeat(32)],
        );
        const copies = await app.core.db.query(
          `INSERT INTO backup_copies (execution_id, storage_location_id, status, backup_path)
           SELECT $1, storage_location_id, 'completed', $2 FROM backup_job_storages WHERE job_id = $3 RETURNING storage_location_id`,
          [row.id, folder, job.id],
        );
        // The part is on each storage at its recorded size (sparse: it takes no room), so the copies check as available.
        for (const c of copies) {
          const file = path.join(work, storages[0].id === c.storage_location_id ? 'disk-a' : 'disk-b', folder, 'backup.tar.zst');
          mkdirSync(path.dirname(file), { recursive: true });
          writeFileSync(file, '');
          truncateSync(file, 1_204_000);
        }
        if (n === 0) ids.backup = row.id;
      }
      if (operation === 'verify') {
        await app.core.db.query(`UPDATE backup_executions SET metadata = metadata || jsonb_build_object('verification', $2::jsonb) WHERE id = $1`, [
          source!.id,
          JSON.stringify({ ...(metadata as { verification: object }).verification, execution_id: row.id }),
        ]);
      }
      if (operation === 'restore' && !ids.restore) ids.restore = row.id;
      if (operation === 'cleanup') ids.cleanup = row.id;
    }
  }
  // And one running now (a lease an hour ahead, no process of this machine): Activity draws its progress bar.
  await app.core.db.query(
    `INSERT INTO backup_executions (job_id, datasource_id, storage_location_id, operation, status, trigger, started_at, heartbeat_at, metadata, created_at, attempt, backup_type)
     VALUES ($1, $2, $3, 'backup', 'running', 'manual', now() - interval '3 minutes', now() + interval '1 hour', $4, now() - interval '3 minutes', 1, 'full')`,
    [jobs[1].id, jobs[1].datasource_id, jobs[1].storage_location_id, JSON.stringify({ job_name: jobs[1].name, execution_logs: [] })],
  );
  await app.core.db.query(`UPDATE backup_executions SET pinned_at = now(), pin_reason = 'Before the move to the new NAS' WHERE id = $1`, [ids.backup]);
  await app.core.db.query(
    `UPDATE backup_jobs j SET last_execution_at = (SELECT max(finished_at) FROM backup_executions e WHERE e.job_id = j.id AND e.operation = 'backup')`,
  );
  const [{ count }] = await app.core.db.query('SELECT count(*)::int AS count FROM backup_executions');
  assert.equal(count, 201, `${count} runs seeded`);

  // A day of checks every 5 minutes, slower at night.
  await app.core.db.query(
    `INSERT INTO health_checks (datasource_id, checked_at, status, latency_ms)
     SELECT d.id, now() - g * interval '5 minutes', CASE WHEN g % 97 = 0 THEN 'timeout' ELSE 'ok' END::health_check_status,
            CASE WHEN g % 97 = 0 THEN NULL ELSE 3 + (g % 12) END
     FROM datasources d, generate_series(1, 288) g`,
  );
  await call('datasources.healthCheck', { id: datasources[0].id });
}

before(async () => {
  assert.ok(existsSync(path.join(staticDir, 'index.html')), 'run `npm run build` first');
  mkdirSync(screenshots, { recursive: true });
  work = await tempDir('dg-e2e-glance-', { owner: 'root', mode: 0o755 });
  app = await startApp({ staticDir });
  await seed();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 }, timezoneId: 'Europe/Lisbon', locale: 'en-GB' });
  page.setDefaultTimeout(20_000);
  await page.goto(`${app.url}/?token=${app.token}`);
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
});

after(async () => {
  await browser?.close();
  await app?.stop();
  if (work) await removeTempDir(work);
});

/** Each page, and what shows once it has loaded. */
const PAGES: { name: string; route: () => string; ready: (p: Page) => Promise<unknown>; shot?: string }[] = [
  { name: 'Overview', route: () => 'overview', ready: (p) => p.getByRole('figure').first().waitFor(), shot: 'overview' },
  { name: 'Datasources', route: () => 'datasources', ready: (p) => p.getByRole('table', { name: 'Datasources' }).waitFor(), shot: 'datasources' },
  { name: 'Storage', route: () => 'storages', ready: (p) => p.getByRole('table', { name: 'Storage locations' }).waitFor(), shot: 'storages' },
  { name: 'Backup jobs', route: () => 'jobs', ready: (p) => p.getByRole('table', { name: 'Backup jobs' }).waitFor(), shot: 'jobs' },
  { name: 'Job form', route: () => `jobs/${ids.job}/edit`, ready: (p) => p.getByRole('region', { name: 'Retention preview' }).waitFor(), shot: 'job-form' },
  { name: 'New datasource', route: () => 'datasources/new', ready: (p) => p.getByRole('heading', { level: 1, name: 'Add datasource' }).waitFor() },
  { name: 'New storage', route: () => 'storages/new', ready: (p) => p.getByRole('heading', { level: 1, name: 'Add storage' }).waitFor() },
  { name: 'Backups', route: () => 'backups', ready: (p) => p.getByRole('table', { name: 'Datasources with backups' }).waitFor() },
  {
    name: 'Backups of a datasource',
    route: () => `backups/${ids.datasource}`,
    ready: (p) => p.getByRole('table', { name: 'Backups' }).locator('tbody tr').first().waitFor(),
    shot: 'backups',
  },
  {
    name: 'Restore dialog',
    route: () => `backups/${ids.datasource}`,
    ready: async (p) => {
      await p
        .getByRole('button', { name: /^Restore the backup of/ })
        .first()
        .click();
      await p.getByRole('dialog', { name: 'Restore a backup' }).waitFor();
    },
  },
  {
    name: 'A row menu',
    route: () => 'jobs',
    ready: async (p) => {
      await p
        .getByRole('button', { name: /^Actions for / })
        .first()
        .click();
      await p.getByRole('menu').waitFor();
    },
  },
  { name: 'Activity', route: () => 'activity', ready: (p) => p.getByRole('table', { name: 'Activity' }).locator('tbody tr').nth(10).waitFor() },
  { name: 'A backup', route: () => `activity/${ids.backup}`, ready: (p) => p.getByRole('table', { name: 'Files' }).waitFor(), shot: 'backup-details' },
  { name: 'A restore', route: () => `activity/${ids.restore}`, ready: (p) => p.getByText('Restored into').waitFor() },
  { name: 'A cleanup', route: () => `activity/${ids.cleanup}`, ready: (p) => p.getByText('Backups kept').waitFor() },
  { name: 'Notifications', route: () => 'notifications', ready: (p) => p.getByRole('heading', { level: 1, name: 'Notifications' }).waitFor() },
  { name: 'Settings', route: () => 'settings', ready: (p) => p.getByRole('form', { name: 'Settings' }).waitFor(), shot: 'settings' },
];

async function open(p: (typeof PAGES)[number]) {
  await page.goto(`${app.url}/#/${p.route()}`);
  await p.ready(page);
}

/**
 * Elements wider than their box: each table's frame, anything that scrolls, and the page itself. A string,
 * not a function: tsx would add its own helpers to a function's text, which the page does not have.
 */
const SIDEWAYS = `(() => {
  const out = [];
  const root = document.scrollingElement;
  if (root.scrollWidth > root.clientWidth) out.push('the page (' + root.scrollWidth + ' px in ' + root.clientWidth + ')');
  for (const el of document.querySelectorAll('*')) {
    const style = getComputedStyle(el);
    const scrolls = ['auto', 'scroll'].includes(style.overflowX) || el.classList.contains('table-wrap');
    if (scrolls && el.scrollWidth > el.clientWidth)
      out.push(el.tagName.toLowerCase() + '.' + String(el.className).trim().split(/\\s+/).join('.') + '[' + (el.getAttribute('aria-label') || '') + '] (' + el.scrollWidth + ' px in ' + el.clientWidth + ')');
  }
  return out;
})()`;

/** Buttons and links of a table that stick out of its frame. */
const CLIPPED = `[...document.querySelectorAll('.table-wrap')].flatMap((wrap) => {
  const box = wrap.getBoundingClientRect();
  return [...wrap.querySelectorAll('button, a')]
    .filter((b) => { const r = b.getBoundingClientRect(); return r.width > 0 && (r.right > box.right + 0.5 || r.left < box.left - 0.5); })
    .map((b) => b.textContent || '');
})`;

const AXE_RUN = `axe.run().then((result) => result.violations
  .filter((v) => v.impact === 'serious' || v.impact === 'critical')
  .map((v) => v.id + ' (' + v.impact + '): ' + v.help + ' — ' + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')))`;

test('at 1280×800 with 20 jobs and 200 runs, nothing on any page scrolls sideways and every row action is in view', async () => {
  const problems: string[] = [];
  for (const p of PAGES) {
    await open(p);
    problems.push(...(await page.evaluate<string[]>(SIDEWAYS)).map((e) => `${p.name}: ${e} scrolls sideways`));
    // Row actions sit inside the table's frame, whole.
    problems.push(...(await page.evaluate<string[]>(CLIPPED)).map((e) => `${p.name}: “${e}” is cut off`));
    if (p.shot) await page.screenshot({ path: path.join(screenshots, `${p.shot}.png`) });
  }
  // Dark, as the system says.
  await page.emulateMedia({ colorScheme: 'dark' });
  await open(PAGES.find((p) => p.name === 'Backup jobs')!);
  await page.screenshot({ path: path.join(screenshots, 'jobs-dark.png') });
  await page.emulateMedia({ colorScheme: 'light' });
  assert.deepEqual(problems, []);
});

test('axe-core finds no serious or critical accessibility problem on any page, light or dark', async () => {
  const problems: string[] = [];
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    for (const p of PAGES) {
      await open(p);
      // The page's CSP allows no inline script: axe goes in through the DevTools protocol, as a test tool does.
      await page.evaluate(AXE);
      const violations = await page.evaluate<string[]>(AXE_RUN);
      problems.push(...violations.map((v) => `${p.name} (${colorScheme}): ${v}`));
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  assert.deepEqual(problems, []);
});

test('Activity: a backup and what followed it on one line, which opens; a filter by kind', async () => {
  const lines = page.getByRole('table', { name: 'Activity' }).locator('tbody tr');
  const count = (n: number) => page.waitForFunction((n) => document.querySelectorAll('table[aria-label="Activity"] tbody tr').length === n, n);
  await page.goto(`${app.url}/#/activity`);
  // 200 runs, 20 jobs: per job 3 backups with their verifications and cleanups, a failed backup, a restore;
  // and the backup running now. The newest page holds 200 runs: the oldest backup is on the next, so its
  // verification and cleanup wait for it rather than show on lines of their own.
  await count(100);
  await lines.first().getByRole('progressbar').waitFor();
  await page.getByRole('button', { name: 'Show older runs' }).click();
  await count(101);
  assert.equal(await lines.last().getByText('verified ✓').count(), 1, 'the oldest backup, with what followed it');
  const first = lines.filter({ hasText: 'verified ✓' }).filter({ hasText: 'pruned 1' }).first();
  await first.waitFor();
  await first.getByRole('button', { name: /^Show what followed/ }).click();
  await count(103);
  assert.match((await first.locator('xpath=following-sibling::tr[1]').textContent()) ?? '', /↳Verify \(checksum\)/);
  await page.screenshot({ path: path.join(screenshots, 'activity.png') });
  await first.getByRole('button', { name: /^Hide what followed/ }).click();
  await count(101);

  await page.getByLabel('Kind').selectOption('verifications');
  await page.waitForURL(/kind=verifications/);
  await count(60);
  await page.getByLabel('Kind').selectOption('restores');
  await count(20);
  await page.getByLabel('Kind').selectOption('backups');
  await page.getByLabel('Status').selectOption('failed');
  await count(20);
  await page.getByLabel('Kind').selectOption('cleanups');
  await page.getByText('Nothing matches').waitFor();
});

test('the Overview spreads latency over 1 h, 24 h or 7 d, and the size sparkline says its last value', async () => {
  await page.goto(`${app.url}/#/overview`);
  // A day of checks: the last 24 hours unless asked otherwise.
  const card = page.getByRole('article', { name: 'Design studio project archive' });
  await card.getByRole('figure', { name: 'Check time of Design studio project archive, last 24 hours' }).waitFor();
  assert.match((await card.textContent()) ?? '', /Size\s*1\.1 MB/);
  await page.getByRole('radio', { name: 'last 7 days' }).check();
  await page.waitForURL(/range=7d/);
  const week = card.getByRole('figure', { name: 'Check time of Design studio project archive, last 7 days' });
  await week.waitFor();
  assert.ok(Number(await week.getAttribute('data-points')) <= 25, 'a day of checks in hourly points');
  await page.getByRole('radio', { name: 'last hour' }).check();
  const hour = card.getByRole('figure', { name: 'Check time of Design studio project archive, last hour' });
  await hour.waitFor();
  assert.ok(Number(await hour.getAttribute('data-points')) <= 13, 'an hour of checks, one point per minute that had one');
});

test('by keyboard: the row menu opens, moves and closes with a visible focus; a dialog closes with Escape', async () => {
  await page.goto(`${app.url}/#/jobs`);
  const run = page.getByRole('button', { name: /^Run now: / }).first();
  await run.focus();
  await page.keyboard.press('Tab');
  const more = page.getByRole('button', { name: /^Actions for / }).first();
  assert.equal(await more.evaluate((el) => el === document.activeElement), true, 'Tab reaches the “⋯” after Run now');
  const outline = `getComputedStyle(document.activeElement).outlineStyle + ' ' + getComputedStyle(document.activeElement).outlineWidth`;
  assert.match(await page.evaluate<string>(outline), /^solid [1-9]/, 'the focus is drawn');
  await page.keyboard.press('Enter');
  const menu = page.getByRole('menu');
  await menu.waitFor();
  assert.equal(await page.evaluate(`document.activeElement.textContent`), 'Show its runs');
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.evaluate(`document.activeElement.textContent`), 'Edit');
  await page.keyboard.press('End');
  assert.equal(await page.evaluate(`document.activeElement.textContent`), 'Delete…');
  await page.keyboard.press('Escape');
  await menu.waitFor({ state: 'detached' });
  assert.equal(await more.evaluate((el) => el === document.activeElement), true, 'Escape gives the focus back');
  await page.keyboard.press('ArrowDown');
  await menu.waitFor();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: /^Edit / }).waitFor();

  await page.goto(`${app.url}/#/backups/${ids.datasource}`);
  await page
    .getByRole('button', { name: /^Restore the backup of/ })
    .first()
    .click();
  const dialog = page.getByRole('dialog', { name: 'Restore a backup' });
  await dialog.waitFor();
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  await page
    .getByRole('button', { name: /^Restore the backup of/ })
    .first()
    .click();
  await dialog.getByRole('button', { name: 'Close' }).click();
  await dialog.waitFor({ state: 'detached' });
});

test('the sign-in page has the app’s look and passes axe, light and dark', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const signIn = await context.newPage();
  try {
    for (const colorScheme of ['light', 'dark'] as const) {
      await signIn.emulateMedia({ colorScheme });
      assert.equal((await signIn.goto(app.url))?.status(), 401);
      await signIn.getByLabel('Token').waitFor();
      const font = await signIn.evaluate(`getComputedStyle(document.body).fontFamily`);
      assert.match(String(font), /Segoe UI|Inter|Noto Sans/, 'the app’s font, not the browser’s default');
      assert.equal(await signIn.locator('.brand svg').count(), 1, 'the shield');
      await signIn.evaluate(AXE);
      assert.deepEqual(await signIn.evaluate<string[]>(AXE_RUN), [], colorScheme);
      await signIn.screenshot({ path: path.join(screenshots, `sign-in${colorScheme === 'dark' ? '-dark' : ''}.png`) });
    }
  } finally {
    await context.close();
  }
});
