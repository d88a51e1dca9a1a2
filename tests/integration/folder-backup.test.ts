// A folder backup through the app, now that the dump starts beside the inspection (no size walk before the first byte):
// thousands of small files and a big one come back whole with nothing but tar, and a folder that is gone still fails
// with "Folder not found", leaving nothing on the storage.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startApp, type AppUnderTest } from '../support/app.js';
import { recoverByHand, runJob, sh } from '../support/backups.js';

let app: AppUnderTest;
let work: string;

async function create(channel: string, input: unknown) {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, r.text);
  return r.body.data;
}

async function localStorage(name: string) {
  const dir = path.join(work, name);
  mkdirSync(dir);
  return { dir, id: (await create('storages.create', { name, type: 'local', config: { path: dir } })).id as string };
}

before(async () => {
  work = mkdtempSync('/tmp/dg-folder-backup-');
  chmodSync(work, 0o755);
  app = await startApp();
});

after(async () => {
  await app?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('folder backups through the app', () => {
  it('2,500 small files, a big file, a symlink and an empty file: recovered by hand with tar, the same tree', async () => {
    const src = path.join(work, 'office');
    for (let i = 0; i < 2500; i++) {
      const folder = path.join(src, `clients-${i % 5}`);
      mkdirSync(folder, { recursive: true });
      writeFileSync(path.join(folder, `invoice-${i}.txt`), `invoice ${i}\n`.repeat(50 + (i % 40)));
    }
    writeFileSync(path.join(src, 'scans.bin'), randomBytes(6 * 1024 * 1024 + 5));
    writeFileSync(path.join(src, 'empty'), '');
    symlinkSync('clients-0/invoice-0.txt', path.join(src, 'first-invoice'));
    const storage = await localStorage('office-storage');
    const ds = await create('datasources.create', { name: 'Office', type: 'files', connection_config: { source_path: src } });
    const execution = await runJob(app, { name: 'Office', datasource_id: ds.id, storage_location_id: storage.id, backup_options: { compression: 'zstd' } });
    assert.equal(execution.status, 'completed', execution.error_message);
    assert.equal(execution.files_count, 2500 + 3);

    const { file } = recoverByHand(path.join(storage.dir, execution.backup_path), mkdtempSync(path.join(work, 'out-')));
    assert.equal(sh(`tar -tvf ${file} | wc -l`).trim(), String(2500 + 3 + 5));
    const tree = mkdtempSync(path.join(work, 'tree-'));
    sh(`tar -xf ${file} -C ${tree} && diff -r --no-dereference ${src} ${tree}`);
  });

  it('a folder that is gone fails with "Folder not found: <path>" and leaves nothing on the storage', async () => {
    const missing = path.join(work, 'moved-away');
    const storage = await localStorage('gone-storage');
    const ds = await create('datasources.create', { name: 'Moved away', type: 'files', save_anyway: true, connection_config: { source_path: missing } });
    const execution = await runJob(app, { name: 'Moved away', datasource_id: ds.id, storage_location_id: storage.id });
    assert.equal(execution.status, 'failed');
    assert.equal(execution.error_message, `Folder not found: ${missing}`);
    assert.deepEqual(readdirSync(storage.dir, { recursive: true }), [], 'no partial backup is kept');
    assert.deepEqual(
      execution.copies.map((c: { status: string }) => c.status),
      ['skipped'],
    );
  });
});
