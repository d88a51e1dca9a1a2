// Pins: a backup the user pinned outlives a retention rule that would delete it, files and all, and is
// not deleted by hand until unpinned; unpinned, the next cleanup takes it. The real app on a real folder
// and a local storage.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { removeTempDir, tempDir } from '../harness/index.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';
import { waitForExecution } from '../support/backups.js';

let app: AppUnderTest;
let work: string;
let storageDir: string;
let job: Json;

async function call(channel: string, input: unknown = {}) {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, `${channel}: ${r.text}`);
  return r.body.data;
}

/** Runs the job now and waits for it and for what follows it (its cleanup). */
async function backup(): Promise<Json> {
  const run = await call('jobs.run', { id: job.id });
  const done = await waitForExecution(app, run.execution_id);
  assert.equal(done.status, 'completed', done.error_message);
  for (let i = 0; i < 600; i++) {
    const [{ n }] = await app.core.db.query(`SELECT count(*)::int AS n FROM backup_executions WHERE status IN ('queued', 'running')`);
    if (n === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return done;
}

const onStorage = (b: Json) => existsSync(path.join(storageDir, b.backup_path, 'manifest.json'));

before(async () => {
  work = await tempDir('dg-pins-', { owner: 'root', mode: 0o755 });
  const source = path.join(work, 'source');
  mkdirSync(source);
  writeFileSync(path.join(source, 'ledger.csv'), 'id,total\n1,10\n');
  storageDir = path.join(work, 'storage');
  app = await startApp();
  const ds = await call('datasources.create', { name: 'Ledger', type: 'files', connection_config: { source_path: source } });
  const storage = await call('storages.create', { name: 'Disk', type: 'local', config: { path: storageDir } });
  job = await call('jobs.create', {
    name: 'Ledger, keep one',
    datasource_id: ds.id,
    storage_location_id: storage.id,
    schedule_cron: '0 3 * * *',
    retention_policy: { max_backups: 1 },
  });
});

after(async () => {
  await app?.stop();
  if (work) await removeTempDir(work);
});

describe('pins', () => {
  it('a pinned backup survives a retention that would delete it; an unpinned one beside it goes', async () => {
    const first = await backup();
    const pinned = await call('backups.pin', { id: first.id, reason: 'before the audit' });
    assert.equal(pinned.pin.reason, 'before the audit');
    const preview = await call('jobs.retentionPreview', { id: job.id });
    assert.deepEqual(preview.kept[0].reasons, ['newest', 'last 1', 'pinned: before the audit']);

    const second = await backup();
    const third = await backup();
    assert.ok(onStorage(first), 'the pinned backup is still on the storage');
    assert.equal((await call('executions.get', { id: first.id })).deleted_at, null);
    assert.ok((await call('executions.get', { id: second.id })).deleted_at, 'the one beside it went');
    assert.equal(onStorage(second), false);
    assert.ok(onStorage(third));
    const listed = (await call('backups.datasource', { id: job.datasource_id })).backups.map((b: Json) => b.id);
    assert.deepEqual(listed, [third.id, first.id], 'the Backups tab lists the newest and the pinned one');

    // Pinned, it is not deleted by hand either: unpin first.
    const refused = await app.http('DELETE', `/api/backups/${first.id}`);
    assert.equal(refused.status, 409, refused.text);
    assert.match(refused.body.error.message, /pinned \(before the audit\): unpin it first/);

    // Unpinned, the next cleanup takes it.
    assert.equal((await app.http('DELETE', `/api/backups/${first.id}/pin`)).body.pin, null);
    await backup();
    assert.equal(onStorage(first), false);
    assert.ok((await call('executions.get', { id: first.id })).deleted_at);
  });

  it('a backup deleted by hand is gone from the storage and its run stays, marked deleted by hand', async () => {
    const [newest] = (await call('backups.datasource', { id: job.datasource_id })).backups;
    assert.ok(onStorage(newest));
    const started = await call('backups.delete', { id: newest.id });
    const cleanup = await waitForExecution(app, started.execution_id);
    assert.equal(cleanup.status, 'completed', cleanup.error_message);
    assert.equal(onStorage(newest), false);
    const after = await call('executions.get', { id: newest.id });
    assert.deepEqual([after.status, after.deleted_by.by], ['completed', 'user']);
  });

  it('only a completed backup that exists can be pinned', async () => {
    const [gone] = await app.core.db.query(`SELECT id FROM backup_executions WHERE deleted_at IS NOT NULL LIMIT 1`);
    assert.equal((await app.http('POST', `/api/backups/${gone.id}/pin`, { reason: 'too late' })).status, 409);
    const [cleanup] = await app.core.db.query(`SELECT id FROM backup_executions WHERE operation = 'cleanup' LIMIT 1`);
    assert.equal((await app.http('POST', `/api/backups/${cleanup.id}/pin`, {})).status, 404);
    assert.equal((await app.http('POST', `/api/backups/${gone.id}/pin`, { reason: 'x'.repeat(501) })).status, 400);
  });
});
