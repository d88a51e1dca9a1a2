// Import from storage reads files anyone with access to the storage could have written: every manifest
// is checked before use, a bad one is skipped with its path and reason, and the rest are imported.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { removeTempDir, tempDir } from '../harness/index.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';
import { runJob } from '../support/backups.js';

let app: AppUnderTest;
let work: string;

async function call(channel: string, input: unknown = {}) {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, r.text);
  return r.body.data;
}

before(async () => {
  work = await tempDir('dg-security-catalog-');
  app = await startApp();
});

after(async () => {
  await app?.stop();
  if (work) await removeTempDir(work);
});

describe('import from storage', () => {
  it('skips each bad manifest with a named reason, imports the good ones, and the listing ends despite a symlink loop', async () => {
    const source = path.join(work, 'source');
    mkdirSync(path.join(source, 'sub'), { recursive: true });
    writeFileSync(path.join(source, 'sub/report.txt'), 'quarterly numbers');
    const made = path.join(work, 'made');
    const local = await call('storages.create', { name: 'Made here', type: 'local', config: { path: made } });
    const ds = await call('datasources.create', { name: 'Docs', type: 'files', connection_config: { source_path: source } });
    const backups: Json[] = [];
    for (const name of ['Docs one', 'Docs two']) {
      const backup = await runJob(app, { name, datasource_id: ds.id, storage_location_id: local.id, backup_options: { compression: 'gzip' } });
      assert.equal(backup.status, 'completed', backup.error_message);
      backups.push(backup);
    }

    // A second disk holding copies of the good backups, and what someone planted beside them.
    const disk = path.join(work, 'disk');
    cpSync(made, disk, { recursive: true });
    const good = path.join(made, backups[0].backup_path);
    const manifest = JSON.parse(readFileSync(path.join(good, 'manifest.json'), 'utf8'));
    const plant = (folder: string, content: unknown) => {
      const at = path.join(disk, folder);
      cpSync(good, at, { recursive: true });
      writeFileSync(path.join(at, 'manifest.json'), typeof content === 'string' ? content : JSON.stringify(content));
      return `${folder}/manifest.json`;
    };
    const newJob = randomUUID();
    const foreign = randomUUID();
    plant(`${newJob}/2030-01-01_000000`, { ...manifest, execution_id: foreign, job_id: newJob, job_name: 'From another install' });
    const badId = plant(`${newJob}/2030-01-02_000000`, { ...manifest, execution_id: 'not-a-uuid' });
    const huge = plant(`${newJob}/2030-01-03_000000`, JSON.stringify({ ...manifest, execution_id: randomUUID(), padding: 'x'.repeat(2 * 1024 * 1024) }));
    const escape = plant(`${newJob}/2030-01-04_000000`, {
      ...manifest,
      execution_id: randomUUID(),
      chunks: [{ ...manifest.chunks[0], file: '../escape' }, ...manifest.chunks.slice(1)],
    });
    writeFileSync(path.join(disk, newJob, 'escape'), 'planted');
    // A link to its own folder (a loop), one to the storage root, one out of it to a folder holding a backup.
    mkdirSync(path.join(disk, 'loop'));
    symlinkSync('.', path.join(disk, 'loop', 'self'));
    symlinkSync('..', path.join(disk, 'loop', 'up'));
    const outside = path.join(work, 'outside');
    cpSync(good, path.join(outside, 'backup'), { recursive: true });
    symlinkSync(outside, path.join(disk, 'elsewhere'));

    const storage = await call('storages.create', { name: 'Old disk', type: 'local', config: { path: disk } });
    const result = await call('storages.import', { id: storage.id });
    const reasons = Object.fromEntries(result.skipped.map((s: { path: string; reason: string }) => [s.path, s.reason]));
    assert.equal(result.skipped.length, 3, JSON.stringify(result.skipped));
    assert.match(reasons[badId], /^Not a DataGuardian manifest: .*execution_id must be a uuid/);
    assert.match(reasons[huge], /^Not a DataGuardian manifest: \d+ bytes, over the 1 MB a manifest may weigh/);
    assert.match(reasons[escape], /^Not a DataGuardian manifest: chunks\.0\.file must be a plain file name/);
    // Two copies of backups this install knows, and one backup it did not know; nothing through the links.
    assert.equal(result.manifests_found, 6, 'the links were not walked: no manifest found through loop/ or elsewhere/');
    assert.equal(result.added, 3, JSON.stringify(result));

    const copies = await call('executions.get', { id: backups[1].id });
    assert.deepEqual(copies.copies.map((c: Json) => c.storage_name).sort(), ['Made here', 'Old disk']);
    const imported = await call('executions.get', { id: foreign });
    assert.equal(imported.status, 'completed');
    assert.equal(imported.job_id, null, 'a job this install does not have');
    assert.equal(imported.chunks.length, manifest.chunks.length);
  });
});
