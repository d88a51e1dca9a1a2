// Restores through the app against real servers: back up, change and delete data, restore, compare with
// the state at backup time. Copies on a local folder, a real sshd (SFTP) and a real S3-compatible server.
import assert from 'node:assert/strict';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  existsSync,
  openSync,
  readSync,
  writeSync,
  closeSync,
} from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { startMariadb, startPostgres, startS3, startSshd } from '../harness/index.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';
import { runJob, waitForExecution } from '../support/backups.js';

let app: AppUnderTest;
let pg: Awaited<ReturnType<typeof startPostgres>>;
let maria: Awaited<ReturnType<typeof startMariadb>>;
let ssh: Awaited<ReturnType<typeof startSshd>>;
let s3: Awaited<ReturnType<typeof startS3>>;
let work: string;
let localDir: string;
let local: { id: string };
let sftp: { id: string };
let bucket: { id: string };

async function call(channel: string, input: unknown = {}) {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, r.text);
  return r.body.data;
}

async function restore(backupId: string, body: Record<string, unknown> = {}) {
  const r = await app.http('POST', `/api/backups/${backupId}/restore`, body);
  assert.equal(r.status, 202, r.text);
  return waitForExecution(app, r.body.execution_id);
}

/** Flips one byte in the middle of a file, as a failing disk would. */
function flipByte(file: string) {
  const fd = openSync(file, 'r+');
  const at = Math.floor(statSync(file).size / 2);
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, at);
  b[0] = b[0]! ^ 0xff;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
}

before(async () => {
  work = mkdtempSync('/tmp/dg-restore-test-');
  chmodSync(work, 0o755);
  [pg, maria, ssh, s3] = await Promise.all([startPostgres(), startMariadb(), startSshd(), startS3()]);
  await s3.createBucket('dg-restore');
  app = await startApp();
  localDir = path.join(work, 'storage');
  mkdirSync(localDir);
  local = await call('storages.create', { name: 'Local', type: 'local', config: { path: localDir } });
  sftp = await call('storages.create', {
    name: 'NAS',
    type: 'ssh',
    config: { host: ssh.host, port: ssh.port, username: ssh.username, private_key: ssh.privateKey, remote_path: ssh.remoteDir },
  });
  bucket = await call('storages.create', {
    name: 'Bucket',
    type: 'minio',
    config: { endpoint: s3.endpoint, bucket: 'dg-restore', access_key: s3.accessKeyId, secret_key: s3.secretAccessKey },
  });
});

after(async () => {
  await app?.stop();
  await Promise.all([pg?.stop(), maria?.stop(), ssh?.stop(), s3?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

describe('postgres', () => {
  const fingerprint = async (db: string) =>
    (await pg.query<{ n: string; sum: string }>(`SELECT count(*)::text AS n, md5(string_agg(t::text, ',' ORDER BY id)) AS sum FROM orders t`, db))[0];
  let ds: { id: string };
  let backup: Json;
  let atBackup: { n: string; sum: string } | undefined;

  before(async () => {
    await pg.createDatabase('shop');
    // md5 text compresses about in half: ~4 MB raw makes at least three 1 MB parts.
    await pg.query(
      `CREATE TABLE orders AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS note FROM generate_series(1, 60000) g; ALTER TABLE orders ADD PRIMARY KEY (id);`,
      'shop',
    );
    atBackup = await fingerprint('shop');
    ds = await call('datasources.create', {
      name: 'Shop',
      type: 'postgres',
      connection_config: { host: pg.host, port: pg.port, database: 'shop', username: pg.user, password: pg.password },
    });
    backup = await runJob(app, {
      name: 'Shop everywhere',
      datasource_id: ds.id,
      storage_location_ids: [local.id, sftp.id, bucket.id],
      storage_strategy: 'replicate',
      backup_options: { compression: 'gzip', max_file_size_mb: 1 },
    });
    assert.equal(backup.status, 'completed', backup.error_message);
    assert.ok(backup.chunks.length >= 3, `${backup.chunks.length} parts`);
    assert.deepEqual(
      backup.copies.map((c: Json) => c.status),
      ['completed', 'completed', 'completed'],
    );
  });

  it('the Backups tab lists the datasource and each copy as available on its storage', async () => {
    const list = await app.http('GET', '/api/backups/datasources');
    assert.equal(list.status, 200);
    assert.ok(list.body.some((d: Json) => d.datasource_id === ds.id && d.backups_count === 1 && d.configured));
    const details = await app.http('GET', `/api/backups/datasources/${ds.id}`);
    const entry = details.body.backups.find((b: Json) => b.id === backup.id);
    assert.deepEqual(entry.availability.map((a: Json) => `${a.storage_name}:${a.status}`).sort(), ['Bucket:available', 'Local:available', 'NAS:available']);
  });

  it('an empty body restores onto the datasource after a safety backup: the data is as it was', async () => {
    await pg.query(`DELETE FROM orders WHERE id % 3 = 0; UPDATE orders SET note = 'changed' WHERE id < 100;`, 'shop');
    assert.notDeepEqual(await fingerprint('shop'), atBackup);
    const done = await restore(backup.id);
    assert.equal(done.status, 'completed', done.error_message);
    assert.equal(done.operation, 'restore');
    assert.deepEqual(await fingerprint('shop'), atBackup);
    assert.equal(done.metadata.tables_restored, 1);
    assert.equal(done.metadata.rows_restored, 60000);
    const safety = await call('executions.get', { id: done.metadata.safety_execution_id });
    assert.equal(safety.status, 'completed', 'the safety backup was taken first');
    assert.equal(safety.metadata.safety_for, done.id);
    const notes = await call('notifications.list', {});
    assert.ok(notes.some((n: Json) => n.type === 'restore_completed' && n.metadata.execution_id === done.id));
  });

  it('a restore into a new database name leaves the original untouched', async () => {
    await pg.query(`DELETE FROM orders WHERE id > 50000`, 'shop');
    const changed = await fingerprint('shop');
    const done = await restore(backup.id, { target_database: 'shop_copy', storage_location_id: sftp.id });
    assert.equal(done.status, 'completed', done.error_message);
    assert.deepEqual(await fingerprint('shop_copy'), atBackup, 'restored from the SFTP copy');
    assert.deepEqual(await fingerprint('shop'), changed, 'the original is untouched');
    assert.equal(done.metadata.safety_execution_id, null, 'nothing was overwritten, so no safety backup');
  });

  it('the S3 copy restores the same', async () => {
    const done = await restore(backup.id, { target_database: 'shop_from_s3', storage_location_id: bucket.id });
    assert.equal(done.status, 'completed', done.error_message);
    assert.deepEqual(await fingerprint('shop_from_s3'), atBackup);
  });

  it('a flipped byte in part-002 is refused before the target is touched, and the automatic choice uses another copy', async () => {
    const part = path.join(localDir, backup.backup_path, backup.chunks[1].file_path.split('/').pop());
    assert.match(part, /part-002$/);
    flipByte(part);
    const before = await fingerprint('shop');
    const refused = await restore(backup.id, { storage_location_id: local.id, safety_backup: false });
    assert.equal(refused.status, 'failed');
    assert.match(refused.error_message, /part-002 is damaged/);
    assert.match(refused.error_message, /was not touched/);
    assert.deepEqual(await fingerprint('shop'), before);

    const done = await restore(backup.id, { safety_backup: false });
    assert.equal(done.status, 'completed', done.error_message);
    assert.equal(done.metadata.restored_from.storage_name, 'NAS');
    assert.ok(done.metadata.execution_logs.some((l: Json) => /Local cannot be used: .*part-002 is damaged/.test(l.message)));
    assert.deepEqual(await fingerprint('shop'), atBackup);
    flipByte(part);
  });

  it('checksum verification finds a truncated part and names the copy', async () => {
    const part = path.join(localDir, backup.backup_path, backup.chunks[2].file_path.split('/').pop());
    truncateSync(part, 1000);
    const r = await app.http('POST', `/api/backups/${backup.id}/verify`, { method: 'checksum' });
    assert.equal(r.status, 202, r.text);
    const done = await waitForExecution(app, r.body.execution_id);
    assert.equal(done.status, 'failed');
    const v = done.metadata.verification;
    assert.equal(v.ok, false);
    assert.match(v.message, /part-003 is damaged/);
    assert.deepEqual(
      v.copies.map((c: Json) => `${c.storage_name}:${c.ok}`),
      ['Local:false', 'NAS:true', 'Bucket:true'],
    );
    const details = await app.http('GET', `/api/backups/datasources/${ds.id}`);
    const entry = details.body.backups.find((b: Json) => b.id === backup.id);
    assert.equal(entry.verification.ok, false, 'the verdict is kept on the backup');
    assert.equal(entry.availability.find((a: Json) => a.storage_name === 'Local').status, 'missing', 'a part of the wrong size is reported');
  });

  it('a restore test (a drill of the backup) names the damaged copy, restores a good one, counts its rows and leaves no scratch database behind', async () => {
    const r = await app.http('POST', `/api/backups/${backup.id}/verify`, { method: 'restore-test' });
    const done = await waitForExecution(app, r.body.execution_id);
    // part-003 on Local is still truncated (the test above): the drill fails for that copy only.
    assert.equal(done.status, 'failed');
    assert.equal(done.error_message, 'checksums: part-003 on Local: checksum mismatch');
    assert.ok(done.metadata.checks.every((c: Json) => c.ok));
    assert.equal(done.metadata.verification.tables, 1);
    assert.equal(done.metadata.verification.rows, 60000);
    const left = await app.core.db.query(`SELECT datname FROM pg_database WHERE datname LIKE 'dg_drill_%'`);
    assert.deepEqual(left, []);
  });

  it('a restore done by hand is recorded as a notification', async () => {
    const r = await app.http('POST', `/api/executions/${backup.id}/mark-restored`, { restored_by: 'operador', reason: 'Rollback after a bad migration' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.type, 'restore_completed');
    assert.match(r.body.message, /operador: Rollback after a bad migration/);
  });
});

describe('mariadb, sqlite and files', () => {
  it('mariadb: changed data comes back, and a new database name leaves the original alone', async () => {
    await maria.createDatabase('crm');
    await maria.query('CREATE TABLE clients (id INT PRIMARY KEY, name VARCHAR(64))', 'crm');
    await maria.query(`INSERT INTO clients VALUES (1, 'Ana'), (2, 'Bruno'), (3, 'Carla')`, 'crm');
    const ds = await call('datasources.create', {
      name: 'CRM',
      type: 'mariadb',
      connection_config: { host: maria.host, port: maria.port, database: 'crm', username: maria.user, password: maria.password },
    });
    const backup = await runJob(app, { name: 'CRM', datasource_id: ds.id, storage_location_id: local.id, backup_options: { compression: 'zstd' } });
    assert.equal(backup.status, 'completed', backup.error_message);
    await maria.query('DELETE FROM clients WHERE id = 2', 'crm');
    await maria.query(`UPDATE clients SET name = 'X' WHERE id = 1`, 'crm');
    const copy = await restore(backup.id, { target_database: 'crm_copy' });
    assert.equal(copy.status, 'completed', copy.error_message);
    assert.deepEqual(
      (await maria.query<{ id: number; name: string }>('SELECT id, name FROM clients ORDER BY id', 'crm_copy')).map((r) => `${r.id}:${r.name}`),
      ['1:Ana', '2:Bruno', '3:Carla'],
    );
    assert.deepEqual(
      (await maria.query<{ id: number; name: string }>('SELECT id, name FROM clients ORDER BY id', 'crm')).map((r) => `${r.id}:${r.name}`),
      ['1:X', '3:Carla'],
    );
    const done = await restore(backup.id);
    assert.equal(done.status, 'completed', done.error_message);
    assert.deepEqual(
      (await maria.query<{ id: number; name: string }>('SELECT id, name FROM clients ORDER BY id', 'crm')).map((r) => `${r.id}:${r.name}`),
      ['1:Ana', '2:Bruno', '3:Carla'],
    );
  });

  it('sqlite: the file is replaced and the previous one kept beside it', async () => {
    const file = path.join(work, 'app.db');
    const db = new Database(file);
    db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('one'), ('two');");
    db.close();
    const ds = await call('datasources.create', { name: 'Notes', type: 'sqlite', connection_config: { file_path: file } });
    const backup = await runJob(app, { name: 'Notes', datasource_id: ds.id, storage_location_id: local.id, backup_options: { compression: 'lz4' } });
    assert.equal(backup.status, 'completed', backup.error_message);
    const w = new Database(file);
    w.exec("DELETE FROM notes; INSERT INTO notes (body) VALUES ('after');");
    w.close();
    const done = await restore(backup.id);
    assert.equal(done.status, 'completed', done.error_message);
    const r = new Database(file, { readonly: true });
    assert.deepEqual(
      (r.prepare('SELECT body FROM notes ORDER BY id').all() as { body: string }[]).map((x) => x.body),
      ['one', 'two'],
    );
    r.close();
    assert.ok(done.metadata.previous_file && existsSync(done.metadata.previous_file), 'the previous file is kept');
  });

  it('files: a tree comes back into a new folder, identical', async () => {
    const source = path.join(work, 'docs');
    mkdirSync(path.join(source, 'a/b'), { recursive: true });
    writeFileSync(path.join(source, 'a/b/report.txt'), 'quarterly numbers');
    writeFileSync(path.join(source, 'top.txt'), 'top');
    const ds = await call('datasources.create', { name: 'Docs', type: 'files', connection_config: { source_path: source } });
    const backup = await runJob(app, { name: 'Docs', datasource_id: ds.id, storage_location_id: local.id, backup_options: { compression: 'gzip' } });
    assert.equal(backup.status, 'completed', backup.error_message);
    const into = path.join(work, 'docs-restored');
    const done = await restore(backup.id, { target_path: into });
    assert.equal(done.status, 'completed', done.error_message);
    assert.equal(readFileSync(path.join(into, 'a/b/report.txt'), 'utf8'), 'quarterly numbers');
    assert.deepEqual(readdirSync(into).sort(), ['a', 'top.txt']);
    // Onto a folder where the files exist, without overwrite: refused, naming a file.
    const again = await restore(backup.id, { target_path: into });
    assert.equal(again.status, 'failed');
    assert.match(again.error_message, /exists/);
  });
});

describe('import from storage', () => {
  it('a fresh install finds the backups on a storage, lists them and restores them', async () => {
    const fresh = await startApp();
    try {
      const r = await fresh.rpc('storages.create', { name: 'Old disk', type: 'local', config: { path: localDir } });
      assert.ok(r.body.ok, r.text);
      const importedAt = new Date();
      const first = await fresh.rpc('storages.import', { id: r.body.data.id });
      assert.ok(first.body.ok, first.text);
      const found = first.body.data;
      assert.ok(found.added >= 5, JSON.stringify(found));
      // The postgres backup whose part-003 was truncated above is not a backup any more: named, not added.
      assert.ok(
        found.skipped.some((s: Json) => /part-003 is missing or has the wrong size/.test(s.reason)),
        JSON.stringify(found),
      );
      const again = await fresh.rpc('storages.import', { id: r.body.data.id });
      assert.equal(again.body.data.added, 0, 'nothing is added twice');
      assert.equal(again.body.data.already_known, first.body.data.added);

      const groups = (await fresh.http('GET', '/api/backups/datasources')).body;
      const crm = groups.find((g: Json) => g.datasource_name === 'CRM');
      assert.ok(crm, JSON.stringify(groups));
      assert.equal(crm.configured, false);
      const details = (await fresh.http('GET', `/api/backups/datasources/${crm.datasource_id}`)).body;
      // The newest is the safety backup taken before the CRM restore above; the job's own backup is the older one.
      assert.equal(details.backups.length, 2);
      const imported = details.backups[1];
      assert.ok(new Date(imported.created_at) < new Date(details.backups[0].created_at), 'newest first, with the dates they were made');
      assert.ok(new Date(imported.created_at) < importedAt, 'the date is when the backup was made, not when it was imported');
      assert.equal(imported.availability[0].status, 'available');

      await maria.query('DROP TABLE clients', 'crm');
      const target = await fresh.rpc('datasources.create', {
        name: 'CRM again',
        type: 'mariadb',
        connection_config: { host: maria.host, port: maria.port, database: 'crm', username: maria.user, password: maria.password },
      });
      const started = await fresh.http('POST', `/api/backups/${imported.id}/restore`, { target_datasource_id: target.body.data.id, safety_backup: false });
      assert.equal(started.status, 202, started.text);
      const done = await waitForExecution(fresh, started.body.execution_id);
      assert.equal(done.status, 'completed', done.error_message);
      assert.deepEqual(
        (await maria.query<{ id: number }>('SELECT id FROM clients ORDER BY id', 'crm')).map((x) => x.id),
        [1, 2, 3],
      );
    } finally {
      await fresh.stop();
    }
  });
});
