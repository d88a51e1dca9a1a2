import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startS3, startSshd } from '../harness/index.js';
import { CleanupWorker } from '../../electron/core/scheduler/cleanup-worker.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';
import { ManualClock } from '../support/clock.js';
import { waitForExecution } from '../support/backups.js';

let app: AppUnderTest;
let ssh: Awaited<ReturnType<typeof startSshd>>;
let s3: Awaited<ReturnType<typeof startS3>>;
let work: string;
let localDir: string;
let jobId: string;
const BUCKET = 'dg-retention';
const PREFIX = 'team';

async function call(channel: string, input: unknown = {}) {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, r.text);
  return r.body.data;
}

/** Where each storage keeps a backup folder on this machine's disk (SFTP and s3rver both store in local folders). */
const onDisk = (folder: string) => ({
  local: path.join(localDir, folder),
  sftp: path.join(ssh.remoteDir, folder),
  s3: path.join(s3.dir, BUCKET, PREFIX, folder),
});

/** Records the files deleted from a folder, in the order the kernel reports them. */
function watchDeletions(dir: string): { names: string[]; close(): void } {
  const names: string[] = [];
  const watcher: FSWatcher = watch(dir, (event, name) => {
    if (event === 'rename' && name && !existsSync(path.join(dir, name)) && !names.includes(name)) names.push(name);
  });
  watcher.on('error', () => undefined);
  return { names, close: () => watcher.close() };
}

async function backup(): Promise<Json> {
  const run = await call('jobs.run', { id: jobId });
  const done = await waitForExecution(app, run.execution_id);
  assert.equal(done.status, 'completed', done.error_message);
  return done;
}

/** The cleanups of the job, newest first, once there are more than `seen` and none is queued or running. */
async function cleanups(seen = -1): Promise<Json[]> {
  for (const until = Date.now() + 60_000; ;) {
    const list: Json[] = (await call('executions.list', { job_id: jobId, limit: 100 })).filter((e: Json) => e.operation === 'cleanup');
    if (list.length > seen && list.every((e) => !['queued', 'running'].includes(e.status))) return list;
    if (Date.now() > until) throw new Error(`no new cleanup after ${seen}, or one is still running`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The cleanup the backup just made queued (its follow-up starts a moment after the backup is recorded). */
const nextCleanup = async (seen: number): Promise<Json> => (await cleanups(seen))[0];

/** The job's backups that still exist (a deleted one keeps its run, marked deleted). */
const backupIds = async () =>
  (await call('jobs.executions', { id: jobId, status: 'completed', limit: 100 })).filter((e: Json) => e.operation === 'backup' && !e.deleted_at);

before(async () => {
  work = mkdtempSync('/tmp/dg-retention-');
  chmodSync(work, 0o755);
  [ssh, s3] = await Promise.all([startSshd(), startS3()]);
  await s3.createBucket(BUCKET);
  app = await startApp();
  // Cleanups and successes are quiet by default (Activity only); this file reads their notifications from the inbox.
  await call('settings.update', { 'notifications.routing': { cleanup_completed: 'inbox', backup_success: 'inbox' } });
  localDir = path.join(work, 'local');
  mkdirSync(localDir);
  const source = path.join(work, 'source');
  mkdirSync(source);
  // 3 MB that does not compress: three 1 MB parts per backup.
  writeFileSync(path.join(source, 'data.bin'), randomBytes(2_600_000));
  const datasource = await call('datasources.create', { name: 'Docs', type: 'files', connection_config: { source_path: source } });
  const local = await call('storages.create', { name: 'Disk', type: 'local', config: { path: localDir } });
  const sftp = await call('storages.create', {
    name: 'NAS',
    type: 'ssh',
    config: { host: ssh.host, port: ssh.port, username: ssh.username, private_key: ssh.privateKey, remote_path: ssh.remoteDir },
  });
  const bucket = await call('storages.create', {
    name: 'Bucket',
    type: 's3',
    config: {
      endpoint: s3.endpoint,
      bucket: BUCKET,
      prefix: PREFIX,
      region: s3.region,
      access_key_id: s3.accessKeyId,
      secret_access_key: s3.secretAccessKey,
      force_path_style: true,
    },
  });
  const job = await call('jobs.create', {
    name: 'Docs nightly',
    datasource_id: datasource.id,
    storage_location_ids: [local.id, sftp.id, bucket.id],
    storage_strategy: 'replicate',
    schedule_cron: '0 3 * * *',
    schedule_timezone: 'Europe/Berlin',
    retention_policy: { max_backups: 2 },
    backup_options: { compression: 'none', max_file_size_mb: 1 },
  });
  jobId = job.id;
});

after(async () => {
  await app?.stop();
  await Promise.all([ssh?.stop(), s3?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

describe('retention on real storages', () => {
  let first: Json;

  it('keeps max_backups: the oldest backup goes from local, SFTP and S3, manifest first, logged and notified', async () => {
    first = await backup();
    await backup();
    assert.equal((await cleanups()).length, 0, 'two backups are within the rule: no cleanup at all');
    const dirs = onDisk(first.backup_path);
    for (const dir of Object.values(dirs)) assert.ok(existsSync(dir), dir);
    const watchers = Object.fromEntries(Object.entries(dirs).map(([k, dir]) => [k, watchDeletions(dir)]));

    await backup();
    const cleanup = await nextCleanup(0);
    assert.equal(cleanup.status, 'completed', cleanup.error_message);
    await new Promise((r) => setTimeout(r, 300));
    for (const w of Object.values(watchers)) w.close();

    for (const [where, dir] of Object.entries(dirs)) {
      assert.equal(filesIn(dir).length, 0, `${where}: ${dir} still holds files`);
      const deleted = watchers[where]!.names;
      assert.ok(deleted.length >= 4, `${where}: saw ${deleted.join(', ')}`);
      assert.match(deleted[0]!, /^manifest\.json/, `${where}: the manifest goes first, then the parts (saw ${deleted.join(', ')})`);
    }
    for (const log of [
      path.join(localDir, '_system/cleanup.log'),
      path.join(ssh.remoteDir, '_system/cleanup.log'),
      path.join(s3.dir, BUCKET, PREFIX, '_system', 'cleanup.log._S3rver_object'),
    ]) {
      const text = readFileSync(log, 'utf8');
      assert.match(text, new RegExp(`deleted=${first.backup_path} backup=${first.id} bytes=\\d+`), log);
      assert.equal(text.trim().split('\n').length, 1, log);
    }

    const m = cleanup.metadata;
    assert.equal(cleanup.trigger, 'after_backup');
    assert.deepEqual(
      m.deleted.map((d: Json) => d.execution_id),
      [first.id],
    );
    assert.ok(m.bytes_freed > 3 * 2_600_000, `bytes freed: ${m.bytes_freed}`);
    assert.deepEqual(m.deleted[0].storages.sort(), ['Bucket', 'Disk', 'NAS']);

    const notifications: Json[] = await call('notifications.list', {});
    assert.ok(notifications.some((n) => n.type === 'cleanup_completed' && n.entity_id === jobId && n.metadata?.execution_id === cleanup.id));

    // Its files and copies are gone; its run stays, marked deleted by this cleanup, with the record of its parts.
    const gone = await call('executions.get', { id: first.id });
    assert.equal(gone.status, 'completed');
    assert.ok(gone.deleted_at);
    assert.deepEqual(gone.deleted_by, { by: 'retention', execution_id: cleanup.id });
    assert.deepEqual(gone.copies, []);
    assert.equal(gone.chunks.length, first.chunks.length);
    const restore = await app.rpc('backups.restore', { id: first.id, target_path: path.join(work, 'never') });
    assert.equal(restore.body.error.code, 'not_found');
    assert.match(restore.body.error.message, /was deleted on/);
    assert.equal((await backupIds()).length, 2);
  });

  it('the second cleanup appends to each cleanup.log', async () => {
    const seen = (await cleanups()).length;
    await backup();
    const latest = await nextCleanup(seen);
    assert.equal(latest.status, 'completed');
    assert.equal(readFileSync(path.join(ssh.remoteDir, '_system/cleanup.log'), 'utf8').trim().split('\n').length, 2);
    assert.equal(readFileSync(path.join(localDir, '_system/cleanup.log'), 'utf8').trim().split('\n').length, 2);
    assert.equal(
      readFileSync(path.join(s3.dir, BUCKET, PREFIX, '_system', 'cleanup.log._S3rver_object'), 'utf8')
        .trim()
        .split('\n').length,
      2,
    );
  });

  it('a backup named by a queued restore survives the cleanup that follows the next backup', async () => {
    const [, oldest] = await backupIds();
    const before = (await cleanups()).length;
    const run = await call('jobs.run', { id: jobId });
    // Queued behind the backup of the same job, so it is still waiting when that backup's cleanup is planned.
    const restore = await call('backups.restore', { id: oldest.id, target_path: path.join(work, `restored-${Date.now()}`), safety_backup: false });
    assert.equal((await waitForExecution(app, run.execution_id)).status, 'completed');
    assert.equal((await waitForExecution(app, restore.execution_id)).status, 'completed');
    assert.equal((await cleanups()).length, before, 'nothing could go, so no cleanup ran');
    assert.ok(
      (await backupIds()).some((b: Json) => b.id === oldest.id),
      'the backup the restore used is still there',
    );

    // Once the restore is done it is an ordinary old backup again.
    await backup();
    const latest = await nextCleanup(before);
    assert.ok(latest.metadata.deleted.some((d: Json) => d.execution_id === oldest.id));
    assert.equal((await backupIds()).length, 2);
  });

  it('the preview answers kept and deleted with a reason for each, for the stored rule or one being edited', async () => {
    const backups = await backupIds();
    const stored = await app.http('POST', `/api/backup-jobs/${jobId}/retention-preview`, {});
    assert.equal(stored.status, 200, stored.text);
    assert.deepEqual(
      stored.body.kept.map((d: Json) => d.execution_id),
      backups.map((b: Json) => b.id),
    );
    assert.deepEqual(stored.body.kept[0].reasons, ['newest', 'last 2']);
    assert.deepEqual(stored.body.deleted, []);

    const edited = await app.http('POST', `/api/backup-jobs/${jobId}/retention-preview`, { retention_policy: { keep_daily: 1, auto_delete: false } });
    assert.equal(edited.status, 200, edited.text);
    assert.equal(edited.body.auto_delete, false);
    assert.equal(edited.body.kept.length, 1);
    assert.deepEqual(edited.body.kept[0].reasons, ['newest', `daily ${berlinDate(edited.body.kept[0].started_at)}`]);
    assert.equal(edited.body.deleted.length, 1);
    assert.deepEqual(edited.body.deleted[0].reasons, []);

    const refused = await app.http('POST', `/api/backup-jobs/${jobId}/retention-preview`, { retention_policy: { keep_daily: 0 } });
    assert.equal(refused.status, 400);
    assert.match(refused.body.error.message + JSON.stringify(refused.body.error.issues), /keeps nothing/);
  });

  it('the daily cleanup fires at 04:00 local time on the injected clock, for every job', async () => {
    const clock = new ManualClock('2026-03-28T12:00:00Z');
    const calls: [string, string, string][] = [];
    const worker = new CleanupWorker(
      { db: app.core.db, clock },
      { cleanup: async (id, trigger) => (calls.push([id, trigger, clock.now().toISOString()]), null) },
      'Europe/Berlin',
    );
    worker.start();
    await clock.set('2026-03-29T01:59:00Z');
    assert.deepEqual(calls, []);
    // 2026-03-29 is the DST day in Berlin: 04:00 local is 02:00 UTC, no longer 03:00.
    await clock.set('2026-03-29T02:00:00Z');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(calls, [[jobId, 'schedule', '2026-03-29T02:00:00.000Z']]);
    await clock.set('2026-03-30T02:00:00Z');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(calls.length, 2);
    await worker.stop();
  });
});

describe('history survives retention', () => {
  it('retention deletes 5 of 8 backups: all 8 still answer, 5 marked deleted; the Backups tab lists 3, Activity 8; a notification of a deleted one still leads to it', async () => {
    const source = path.join(work, 'history-source');
    mkdirSync(source);
    writeFileSync(path.join(source, 'notes.txt'), 'minutes of the meeting\n');
    const storageDir = path.join(work, 'history-storage');
    mkdirSync(storageDir);
    const datasource = await call('datasources.create', { name: 'Minutes', type: 'files', connection_config: { source_path: source } });
    const storage = await call('storages.create', { name: 'History disk', type: 'local', config: { path: storageDir } });
    const job = await call('jobs.create', {
      name: 'Minutes',
      datasource_id: datasource.id,
      storage_location_id: storage.id,
      schedule_cron: '0 3 * * *',
      retention_policy: { max_backups: 3 },
    });
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const run = await call('jobs.run', { id: job.id });
      assert.equal((await waitForExecution(app, run.execution_id)).status, 'completed');
      ids.push(run.execution_id);
      // Its cleanup follows: wait for it, so the next backup does not find the job busy.
      for (const until = Date.now() + 30_000; ;) {
        const active = (await call('executions.list', { job_id: job.id, limit: 50 })).filter((e: Json) => ['queued', 'running'].includes(e.status));
        if (active.length === 0) break;
        assert.ok(Date.now() < until, 'a follow-up is still running');
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    const answers = await Promise.all(ids.map((id) => app.http('GET', `/api/executions/${id}`)));
    assert.deepEqual(
      answers.map((a) => a.status),
      ids.map(() => 200),
    );
    const deleted = answers.filter((a) => a.body.deleted_at);
    assert.deepEqual(
      deleted.map((a) => a.body.id),
      ids.slice(0, 5),
      'the five oldest were deleted',
    );
    for (const a of deleted) {
      assert.equal(a.body.status, 'completed');
      assert.equal(a.body.deleted_by.by, 'retention');
    }
    assert.deepEqual(
      readdirSync(path.join(storageDir, job.id)).filter((f) => f !== 'README.txt').length,
      3,
      'three backup folders stay on the storage (beside the job folder’s README.txt)',
    );

    const tab = await call('backups.datasource', { id: datasource.id });
    assert.equal(tab.backups_count, 3);
    assert.deepEqual(
      tab.backups.map((b: Json) => b.id),
      ids.slice(5).reverse(),
    );
    const activity = (await call('executions.list', { job_id: job.id, limit: 100 })).filter((e: Json) => e.operation === 'backup');
    assert.equal(activity.length, 8);
    assert.equal(activity.filter((e: Json) => e.deleted_at).length, 5);

    const notifications: Json[] = await call('notifications.list', { type: 'backup_success' });
    const aboutDeleted = notifications.find((n) => n.metadata?.execution_id === ids[0]);
    assert.ok(aboutDeleted, 'the first backup was notified');
    const opened = await app.http('GET', `/api/executions/${aboutDeleted.metadata.execution_id}`);
    assert.equal(opened.status, 200);
    assert.ok(opened.body.deleted_at);
  });
});

const filesIn = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);

const berlinDate = (iso: string) =>
  new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));
