// Every execution ends the same way, whatever happens after its work is done; a restore's safety backup
// is an execution of its own; artifacts are split only when they exceed the limit; a new MariaDB database
// keeps the source's collation. Real PostgreSQL, MariaDB and a real folder storage.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startMariadb, startPostgres } from '../harness/index.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';
import { runJob, waitForExecution } from '../support/backups.js';

let app: AppUnderTest;
let server: Awaited<ReturnType<typeof startPostgres>>;
let maria: Awaited<ReturnType<typeof startMariadb>>;
let work: string;
let local: { id: string };

async function call(channel: string, input: unknown = {}) {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, r.text);
  return r.body.data;
}

const count = async (db: string) => Number((await server.query<{ n: string }>('SELECT count(*)::text AS n FROM items', db))[0]!.n);

async function postgresSource(db: string, rows: number) {
  await server.createDatabase(db);
  await server.query(
    `CREATE TABLE items AS SELECT g AS id, md5(g::text) AS note FROM generate_series(1, ${rows}) g; ALTER TABLE items ADD PRIMARY KEY (id);`,
    db,
  );
  return call('datasources.create', {
    name: db,
    type: 'postgres',
    connection_config: { host: server.host, port: server.port, database: db, username: server.user, password: server.password },
  });
}

before(async () => {
  work = mkdtempSync('/tmp/dg-executions-test-');
  chmodSync(work, 0o755);
  [server, maria] = await Promise.all([startPostgres(), startMariadb()]);
  app = await startApp();
  // Routine successes are quiet by default (Activity only); this file reads them from the inbox.
  await call('settings.update', { 'notifications.routing': { backup_success: 'inbox' } });
  const storageDir = path.join(work, 'storage');
  mkdirSync(storageDir);
  local = await call('storages.create', { name: 'Local', type: 'local', config: { path: storageDir } });
});

after(async () => {
  await app?.stop();
  await Promise.all([server?.stop(), maria?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

describe('an execution ends the same way whatever follows it', () => {
  it('a notification sink and an event listener that throw leave the backup completed and restorable', async () => {
    const ds = await postgresSource('sink', 500);
    const removeSink = app.core.notifier.addSink('broken', () => {
      throw new Error('the webhook is down');
    });
    const stopListening = app.core.events.onAny((name) => {
      if (name === 'execution.status') throw new Error('a listener bug');
    });
    let backup;
    try {
      backup = await runJob(app, { name: 'Sink', datasource_id: ds.id, storage_location_ids: [local.id], backup_options: { compression: 'zstd' } });
    } finally {
      removeSink();
      stopListening();
    }
    assert.equal(backup.status, 'completed', backup.error_message);
    const notifications = await call('notifications.list', { type: 'backup_success' });
    assert.ok(
      notifications.some((n: Json) => n.metadata?.execution_id === backup.id),
      'the inbox still got the notification',
    );

    const r = await app.http('POST', `/api/backups/${backup.id}/restore`, { target_database: 'sink_copy' });
    assert.equal(r.status, 202, r.text);
    const restored = await waitForExecution(app, r.body.execution_id);
    assert.equal(restored.status, 'completed', restored.error_message);
    assert.equal(await count('sink_copy'), 500);
  });
});

describe("a restore's safety backup", () => {
  it('is an execution of its own in Activity, and cancelling it stops the restore before the target is touched', async () => {
    const ds = await postgresSource('safety', 1000);
    const backup = await runJob(app, { name: 'Safety', datasource_id: ds.id, storage_location_ids: [local.id], backup_options: { compression: 'gzip' } });
    assert.equal(backup.status, 'completed', backup.error_message);
    await server.query('DELETE FROM items WHERE id > 10', 'safety');

    // Another session holds the table: the safety backup's pg_dump waits for its lock until cancelled.
    const locker = new pg.Client({ connectionString: server.url('safety') });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE items IN ACCESS EXCLUSIVE MODE');
      const r = await app.http('POST', `/api/backups/${backup.id}/restore`, {});
      assert.equal(r.status, 202, r.text);
      const restoreId = r.body.execution_id;

      let safety: Json;
      for (let i = 0; i < 200 && !safety; i++) {
        const list = await call('executions.list', { limit: 20 });
        safety = list.find((e: Json) => e.operation === 'backup' && e.metadata?.safety_for === restoreId && e.status === 'running');
        if (!safety) await new Promise((res) => setTimeout(res, 100));
      }
      assert.ok(safety, 'the safety backup shows in Activity while it runs');
      assert.equal(safety.datasource_id, ds.id);

      const cancelled = await app.http('POST', `/api/executions/${safety.id}/cancel`, {});
      assert.equal(cancelled.status, 200, cancelled.text);
      const safetyDone = await waitForExecution(app, safety.id);
      assert.equal(safetyDone.status, 'cancelled');
      const restore = await waitForExecution(app, restoreId);
      assert.equal(restore.status, 'cancelled', restore.error_message);
      assert.match(restore.error_message, /was not touched/);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
    assert.equal(await count('safety'), 10, 'the target keeps the data it had');
  });
});

describe('parts on storage (seed: split only above max_file_size_mb)', () => {
  /** Random bytes stay about their size through pg_dump's hex text and zstd. */
  async function randomSource(db: string, megabytes: number) {
    await server.createDatabase(db);
    await server.query(
      `CREATE TABLE items AS SELECT g AS id, decode(string_agg(md5(random()::text || g::text || s::text), ''), 'hex') AS blob
       FROM generate_series(1, ${megabytes * 16}) g, generate_series(1, 4096) s GROUP BY g`,
      db,
    );
    return call('datasources.create', {
      name: db,
      type: 'postgres',
      connection_config: { host: server.host, port: server.port, database: db, username: server.user, password: server.password },
    });
  }
  const files = (backup: Json) => readdirSync(path.join(work, 'storage', backup.backup_path)).sort();

  // The seed's sizes (30 and 90 MB under 40 MB) scaled down by ten: the rule is the same, the test 30 s shorter.
  it('a 3 MB artifact under a 4 MB limit is one backup.dump.zst', async () => {
    const ds = await randomSource('small', 3);
    const backup = await runJob(app, {
      name: 'Small',
      datasource_id: ds.id,
      storage_location_ids: [local.id],
      backup_options: { compression: 'zstd', max_file_size_mb: 4 },
    });
    assert.equal(backup.status, 'completed', backup.error_message);
    assert.ok(backup.compressed_size_bytes > 2.5 * 2 ** 20, `${backup.compressed_size_bytes} bytes stored`);
    assert.deepEqual(files(backup), ['backup.dump.zst', 'manifest.json', 'toc.json.gz']);
  });

  it('a 9 MB artifact under a 4 MB limit is three parts', async () => {
    const ds = await randomSource('large', 9);
    const backup = await runJob(app, {
      name: 'Large',
      datasource_id: ds.id,
      storage_location_ids: [local.id],
      backup_options: { compression: 'zstd', max_file_size_mb: 4 },
    });
    assert.equal(backup.status, 'completed', backup.error_message);
    assert.deepEqual(files(backup), ['backup.dump.zst.part-001', 'backup.dump.zst.part-002', 'backup.dump.zst.part-003', 'manifest.json', 'toc.json.gz']);
  });
});

describe('MariaDB', () => {
  it('a restore into a new database keeps the source database collation', async () => {
    await maria.query('CREATE DATABASE unicode_src CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci');
    await maria.query('CREATE TABLE unicode_src.names (id INT PRIMARY KEY, name VARCHAR(50))');
    await maria.query("INSERT INTO unicode_src.names VALUES (1, 'Ação'), (2, 'Straße')");
    const ds = await call('datasources.create', {
      name: 'Unicode',
      type: 'mariadb',
      connection_config: { host: maria.host, port: maria.port, database: 'unicode_src', username: maria.user, password: maria.password },
    });
    const backup = await runJob(app, { name: 'Unicode', datasource_id: ds.id, storage_location_ids: [local.id], backup_options: { compression: 'gzip' } });
    assert.equal(backup.status, 'completed', backup.error_message);
    const r = await app.http('POST', `/api/backups/${backup.id}/restore`, { target_database: 'unicode_copy' });
    const restored = await waitForExecution(app, r.body.execution_id);
    assert.equal(restored.status, 'completed', restored.error_message);
    const [schema] = await maria.query<{ c: string }>("SELECT DEFAULT_COLLATION_NAME AS c FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'unicode_copy'");
    assert.equal(schema!.c, 'utf8mb4_unicode_ci');
    const rows = await maria.query<{ n: number }>('SELECT COUNT(*) AS n FROM unicode_copy.names');
    assert.equal(Number(rows[0]!.n), 2);
  });
});
