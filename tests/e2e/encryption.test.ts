// Encryption in Debian's Chromium against the real headless server (dist/server/cli.js, built by `npm run build`):
// set up in Settings, the recovery sheet shown once, downloadable and printable, a new job encrypted by default,
// and the lock on an encrypted backup in the Backups tab. The downloaded key opens the backup with the `age` CLI.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort, removeTempDir, tempDir } from '../harness/index.js';
import { Daemon, withPortRetry } from '../harness/process.js';

const root = path.resolve(import.meta.dirname, '../..');
const cli = path.join(root, 'dist/server/cli.js');
const shots = path.join(root, 'test-results');
const CHROMIUM = '/usr/bin/chromium';

let app: Daemon;
let dataDir: string;
let work: string;
let browser: Browser;
let page: Page;
let base: string;
let token: string;

async function startServer(): Promise<{ daemon: Daemon; signInUrl: string }> {
  return withPortRetry(async () => {
    const port = await freePort();
    const logFile = path.join(dataDir, 'server.log');
    const daemon = new Daemon('DataGuardian server', process.execPath, [cli, '--port', String(port), '--host', '127.0.0.1'], {
      logFile,
      stopSignal: 'SIGTERM',
      exitSignal: 'SIGTERM',
    });
    let printed: string | undefined;
    try {
      await daemon.waitUntilReady(async () => {
        const res = await fetch(`http://127.0.0.1:${port}/health`);
        if (res.status !== 200) throw new Error(`/health answered ${res.status}`);
        printed = /DataGuardian is running at (\S+)/.exec(readFileSync(logFile, 'utf8'))?.[1];
        if (!printed) throw new Error('the server has not printed its address yet');
      }, 90_000);
    } catch (e) {
      await daemon.stop();
      throw e;
    }
    return { daemon, signInUrl: printed! };
  });
}

async function rpc(channel: string, input: unknown = {}) {
  const res = await fetch(`${base}/api/rpc/${channel}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(input),
  });
  const body = (await res.json()) as { ok: boolean; data: Record<string, unknown> & { id: string }; error?: { message: string } };
  assert.ok(body.ok, JSON.stringify(body.error));
  return body.data;
}

before(async () => {
  assert.ok(existsSync(cli), `${cli} is missing: run \`npm run build\` first`);
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
  mkdirSync(shots, { recursive: true });
  dataDir = await tempDir('dg-e2e-encryption-', { owner: 'root', mode: 0o755 });
  work = await tempDir('dg-e2e-encryption-work-', { owner: 'root', mode: 0o755 });
  process.env.DG_DATA_DIR = dataDir;
  const started = await startServer();
  app = started.daemon;
  base = new URL(started.signInUrl).origin;
  token = readFileSync(path.join(dataDir, 'api-token'), 'utf8').trim();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 }, timezoneId: 'UTC', acceptDownloads: true });
  page.setDefaultTimeout(20_000);
  await page.goto(started.signInUrl);
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
});

after(async () => {
  await browser?.close();
  await app?.stop();
  if (dataDir) await removeTempDir(dataDir);
  if (work) await removeTempDir(work);
});

test('set up encryption, keep the recovery key from its sheet, a new job is encrypted, the Backups tab shows the lock', async () => {
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  mkdirSync(path.join(work, 'docs'));
  writeFileSync(path.join(work, 'docs', 'letter.txt'), 'Dear customer\n');
  mkdirSync(path.join(work, 'storage'));
  const ds = await rpc('datasources.create', { name: 'Office documents', type: 'files', connection_config: { source_path: path.join(work, 'docs') } });
  const storage = await rpc('storages.create', { name: 'Backup disk', type: 'local', config: { path: path.join(work, 'storage') } });

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Encryption' }).waitFor();
  await page.getByRole('button', { name: 'Set up encryption' }).click();

  // The sheet: the key once, its QR code, the commands; "I have saved it" waits until it was kept somehow.
  const sheet = page.getByTestId('recovery-sheet');
  await sheet.waitFor();
  const identity = (await sheet.getByLabel('Recovery key', { exact: true }).textContent())!.trim();
  assert.match(identity, /^AGE-SECRET-KEY-1[0-9A-Z]{58}$/);
  await sheet.getByRole('img', { name: 'The recovery key as a QR code' }).waitFor();
  assert.match((await sheet.textContent())!, /age -d -i dataguardian-recovery-key\.txt/);
  assert.equal(await page.getByRole('button', { name: 'I have saved it' }).isDisabled(), true);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download key file' }).click()]);
  assert.equal(download.suggestedFilename(), 'dataguardian-recovery-key.txt');
  const keyFile = path.join(work, 'dataguardian-recovery-key.txt');
  await download.saveAs(keyFile);
  assert.ok(readFileSync(keyFile, 'utf8').includes(identity));
  // The printed page is the sheet alone.
  await page.emulateMedia({ media: 'print' });
  await page.screenshot({ path: path.join(shots, '10-recovery-sheet-print.png') });
  assert.equal(await page.locator('nav[aria-label="Main"]').evaluate((n) => getComputedStyle(n).display), 'none');
  assert.ok(await sheet.evaluate((n) => n.getBoundingClientRect().height > 300), 'the sheet is laid out');
  const pdf = await page.pdf({ format: 'A4' });
  assert.equal((pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length, 1, 'one printed page');
  await page.emulateMedia({ media: 'screen' });
  await page.screenshot({ path: path.join(shots, '10-recovery-sheet.png') });
  await page.getByRole('button', { name: 'I have saved it' }).click();
  await sheet.waitFor({ state: 'detached' });
  await page.getByText('Encrypting').waitFor();
  assert.ok(!(await page.content()).includes(identity), 'the key is gone from the page');
  const card = page.locator('section.card', { has: page.getByRole('heading', { name: 'Encryption' }) });
  assert.ok(await card.evaluate((c) => c.scrollWidth <= c.clientWidth + 1), 'the card fits at 1280 px');
  await card.screenshot({ path: path.join(shots, '11-settings-encryption.png') });

  // A new job: encrypted unless the user says otherwise, naming the keys that will open its backups.
  await page.goto(`${base}/#/jobs/new`);
  const select = page.getByLabel('Encryption');
  await select.waitFor();
  // The keys load beside the form: once they have, the choice and the keys it names are shown.
  await page.getByText(/New backups open with this app's key \(age1.*the recovery key \(age1/).waitFor();
  assert.equal(await select.inputValue(), 'age');
  const job = await rpc('jobs.create', { name: 'Documents nightly', datasource_id: ds.id, storage_location_id: storage.id, schedule_cron: '0 3 * * *' });
  assert.equal((job.backup_options as { encryption: string }).encryption, 'age');
  const run = await rpc('jobs.run', { id: job.id });
  for (let i = 0; i < 200; i++) {
    const e = await rpc('executions.get', { id: run.execution_id });
    if (e.status === 'completed') break;
    assert.ok(['queued', 'running'].includes(e.status as string), JSON.stringify(e.error_message));
    await new Promise((r) => setTimeout(r, 100));
  }

  // The Backups tab: the lock, with the keys.
  await page.goto(`${base}/#/backups/${ds.id}`);
  const lock = page.getByTestId('backup-lock');
  await lock.waitFor();
  assert.match((await lock.textContent())!, /Encrypted · age1.*, age1/);
  await page.screenshot({ path: path.join(shots, '12-backups-lock.png') });

  // The key kept from the sheet opens the stored backup with the age CLI.
  const folder = path.join(work, 'storage', job.id);
  const [when] = readdirSync(folder);
  const listing = execFileSync('bash', ['-c', `age -d -i ${keyFile} ${path.join(folder, when!, 'backup.tar.gz.age')} | gzip -dc | tar -t`], {
    encoding: 'utf8',
  });
  assert.match(listing, /letter\.txt/);
  assert.deepEqual(pageErrors, []);
});
