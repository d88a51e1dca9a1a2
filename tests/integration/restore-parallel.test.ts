// parallel_jobs for PostgreSQL (seed: "parallel_jobs: pg_dump -j N") and the one-pass restore, against a real
// server: a -j 4 backup of eight tables round-trips through the app, restores by hand with the README's
// commands, a damaged part is refused before the target is touched, and a restore test still counts exactly.
import assert from 'node:assert/strict';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { postgresEngine } from '../../electron/core/engines/postgres/index.js';
import type { EngineOptions } from '../../electron/core/engines/types.js';
import { startPostgres } from '../harness/index.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';
import { runJob, sh, waitForExecution } from '../support/backups.js';

let app: AppUnderTest;
let pg: Awaited<ReturnType<typeof startPostgres>>;
let work: string;
let storageDir: string;

const TABLES = Array.from({ length: 8 }, (_, i) => `t${i}`);
const ROWS = 10_000;

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

/** Every table's row count and content hash: equal fingerprints, equal data. */
async function fingerprint(db: string): Promise<string[]> {
  const out: string[] = [];
  for (const t of TABLES) {
    const [r] = await pg.query<{ n: string; sum: string }>(`SELECT count(*)::text AS n, md5(string_agg(x::text, ',' ORDER BY id)) AS sum FROM ${t} x`, db);
    out.push(`${t}:${r!.n}:${r!.sum}`);
  }
  return out;
}

const databaseExists = async (name: string) => (await pg.query(`SELECT 1 FROM pg_database WHERE datname = $1`, 'postgres', [name])).length > 0;

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
  work = mkdtempSync('/tmp/dg-restore-parallel-');
  chmodSync(work, 0o755);
  pg = await startPostgres();
  await pg.createDatabase('plant');
  for (const [i, t] of TABLES.entries()) {
    await pg.query(
      `CREATE TABLE ${t} AS SELECT g AS id, md5(g::text) || md5((g * ${i + 7})::text) AS note FROM generate_series(1, ${ROWS}) g; ALTER TABLE ${t} ADD PRIMARY KEY (id);`,
      'plant',
    );
  }
  // A table without an index: reltuples stays unknown (-1), so its estimate comes from the statistics collector.
  await pg.query(`CREATE TABLE log_lines AS SELECT g AS n FROM generate_series(1, 500) g`, 'plant');
  app = await startApp();
  storageDir = path.join(work, 'storage');
  mkdirSync(storageDir);
});

after(async () => {
  await app?.stop();
  await pg?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('postgres with parallel jobs', () => {
  let ds: { id: string };
  let backup: Json;
  let atBackup: string[];
  let folder: string;

  before(async () => {
    atBackup = await fingerprint('plant');
    const local = await call('storages.create', { name: 'Local', type: 'local', config: { path: storageDir } });
    ds = await call('datasources.create', {
      name: 'Plant',
      type: 'postgres',
      connection_config: { host: pg.host, port: pg.port, database: 'plant', username: pg.user, password: pg.password },
    });
    // md5 text halves under zstd: ~6 MB raw is several 1 MB parts, so a damaged one can be named.
    backup = await runJob(app, {
      name: 'Plant, 4 jobs',
      datasource_id: ds.id,
      storage_location_id: local.id,
      backup_options: { compression: 'zstd', parallel_jobs: 4, max_file_size_mb: 1 },
    });
    assert.equal(backup.status, 'completed', backup.error_message);
    folder = path.join(storageDir, backup.backup_path);
  });

  it('is pg_dump -j 4 in the directory format, stored as one tar with the format in its manifest', () => {
    assert.match(backup.metadata.engine_output, /finished item \d+ TABLE DATA t7/);
    assert.ok(backup.metadata.execution_logs.some((l: Json) => /with 4 jobs \(directory format/.test(l.message)));
    const manifest = JSON.parse(readFileSync(path.join(folder, 'manifest.json'), 'utf8'));
    assert.equal(manifest.artifact, 'backup.dir.tar.zst');
    assert.equal(manifest.metadata.dump_format, 'directory');
    assert.ok(manifest.chunks.length >= 2, `${manifest.chunks.length} parts`);
    assert.deepEqual(readdirSync(folder).sort(), ['manifest.json', ...manifest.chunks.map((c: Json) => c.file)].sort());
  });

  it('leaves nothing of pg_dump’s folder in the temporary folder', () => {
    const tmp = path.join(app.dataDir, 'tmp');
    const left = readdirSync(tmp, { recursive: true }).map(String);
    assert.deepEqual(
      left.filter((f) => /pg-dump-|pg-restore-dir-|\.dat$/.test(f)),
      [],
    );
  });

  it('a -j backup restores onto the datasource (after a safety backup) with pg_restore -j', async () => {
    await pg.query(`DELETE FROM t0 WHERE id % 2 = 0; UPDATE t5 SET note = 'changed' WHERE id < 100; DROP TABLE t7;`, 'plant');
    await pg.query(`CREATE TABLE t7 (id int PRIMARY KEY, note text)`, 'plant');
    assert.notDeepEqual(await fingerprint('plant'), atBackup);
    const done = await restore(backup.id);
    assert.equal(done.status, 'completed', done.error_message);
    assert.deepEqual(await fingerprint('plant'), atBackup);
    assert.ok(done.metadata.execution_logs.some((l: Json) => /pg_restore with 4 jobs/.test(l.message)));
    const safety = await call('executions.get', { id: done.metadata.safety_execution_id });
    assert.equal(safety.status, 'completed', 'the safety backup (also -j 4) was taken first');
    assert.equal(safety.metadata.artifact, 'backup.dir.tar.zst');
    // The server's estimates, not a count: exact here, since CREATE INDEX sets reltuples and COPY is counted by the statistics collector.
    assert.equal(done.metadata.tables_restored, 9);
    assert.equal(done.metadata.rows_restored, 8 * ROWS + 500);
  });

  it('a -j backup restores into a new database, leaving the datasource alone', async () => {
    await pg.query(`UPDATE t3 SET note = 'kept' WHERE id = 1`, 'plant');
    const current = await fingerprint('plant');
    const done = await restore(backup.id, { target_database: 'plant_copy' });
    assert.equal(done.status, 'completed', done.error_message);
    assert.deepEqual(await fingerprint('plant_copy'), atBackup);
    assert.deepEqual(await fingerprint('plant'), current);
    assert.equal(done.metadata.safety_execution_id, null);
  });

  it('restores by hand with the README’s commands (cat, zstd -d, tar -x, pg_restore -j 4)', async () => {
    const dump = path.join(work, 'by-hand');
    mkdirSync(dump);
    await pg.query(`CREATE DATABASE plant_by_hand`, 'postgres');
    const env = { PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: pg.user, PGPASSWORD: pg.password };
    // README, "Restore by hand", a backup made with parallel jobs.
    sh(`cd ${JSON.stringify(folder)} && cat backup.dir.tar.zst.part-* | zstd -d | tar -x -C ${JSON.stringify(dump)}`, env);
    sh(`${JSON.stringify(path.join(pg.binDir, 'pg_restore'))} -j 4 --no-owner -d plant_by_hand ${JSON.stringify(dump)}`, env);
    assert.deepEqual(await fingerprint('plant_by_hand'), atBackup);
  });

  it('a damaged part is refused in the one pass, before the target is touched', async () => {
    const manifest = JSON.parse(readFileSync(path.join(folder, 'manifest.json'), 'utf8'));
    const part = path.join(folder, manifest.chunks[0].file);
    flipByte(part);
    try {
      await pg.query(`UPDATE t1 SET note = 'after the backup' WHERE id = 1`, 'plant');
      const current = await fingerprint('plant');
      const intoDatasource = await restore(backup.id, { safety_backup: false });
      assert.equal(intoDatasource.status, 'failed');
      assert.match(intoDatasource.error_message, /part-001 is damaged/);
      assert.match(intoDatasource.error_message, /was not touched/);
      assert.equal(intoDatasource.metadata.target_touched, false);
      assert.deepEqual(await fingerprint('plant'), current, 'the datasource is as it was');

      const intoNew = await restore(backup.id, { target_database: 'plant_never' });
      assert.equal(intoNew.status, 'failed');
      assert.match(intoNew.error_message, /part-001 is damaged/);
      assert.equal(await databaseExists('plant_never'), false, 'the new database was not even created');
    } finally {
      flipByte(part);
    }
  });

  it('a restore test still counts every row exactly', async () => {
    const r = await app.http('POST', `/api/backups/${backup.id}/verify`, { method: 'restore-test' });
    assert.equal(r.status, 202, r.text);
    const done = await waitForExecution(app, r.body.execution_id);
    assert.equal(done.status, 'completed', done.error_message);
    assert.equal(done.metadata.verification.tables, 9);
    assert.equal(done.metadata.verification.rows, 8 * ROWS + 500);
  });
});

describe('pg_dump -j’s folder', () => {
  const tempDir = () => {
    const dir = path.join(work, `engine-tmp-${Math.random().toString(36).slice(2)}`);
    mkdirSync(dir, { mode: 0o700 });
    return dir;
  };
  const dumpOptions = (dir: string, signal: AbortSignal): EngineOptions => ({
    includeTables: [],
    excludeTables: [],
    parallelJobs: 4,
    compressedByPipeline: true,
    toolDirs: { postgres: pg.binDir },
    tempDir: dir,
    signal,
    log: () => undefined,
  });
  const config = () => ({ host: pg.host, port: pg.port, database: 'plant', username: pg.user, password: pg.password, ssl_mode: 'disable' as const });

  it('is removed when the backup is cancelled', async () => {
    const dir = tempDir();
    const cancel = new AbortController();
    const dump = await postgresEngine.dump(config(), dumpOptions(dir, cancel.signal));
    await new Promise((resolve) => dump.stream.once('data', resolve));
    cancel.abort();
    dump.stream.destroy();
    await assert.rejects(dump.finished);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('is removed when the storage fails mid-way, and pg_dump is stopped', async () => {
    const dir = tempDir();
    const dump = await postgresEngine.dump(config(), dumpOptions(dir, new AbortController().signal));
    await new Promise((resolve) => dump.stream.once('data', resolve));
    dump.stream.destroy(new Error('the storage is full'));
    await assert.rejects(dump.finished);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('is removed after a backup that completes', async () => {
    const dir = tempDir();
    const dump = await postgresEngine.dump(config(), dumpOptions(dir, new AbortController().signal));
    let bytes = 0;
    for await (const chunk of dump.stream) bytes += (chunk as Buffer).length;
    await dump.finished;
    assert.ok(bytes > 1_000_000, `${bytes} bytes of tar`);
    assert.deepEqual(readdirSync(dir), []);
  });
});
