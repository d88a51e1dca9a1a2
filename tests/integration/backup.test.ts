import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { startMariadb, startPostgres } from '../harness/index.js';
import { startApp, type AppUnderTest } from '../support/app.js';
import { recoverByHand, runJob, sh, waitForExecution } from '../support/backups.js';

const COMPRESSIONS = ['gzip', 'zstd', 'lz4', 'none'] as const;

let app: AppUnderTest;
let pg: Awaited<ReturnType<typeof startPostgres>>;
let maria: Awaited<ReturnType<typeof startMariadb>>;
let work: string;
let storageId: string;
let storageDir: string;

const dir = (name: string) => {
  const d = path.join(work, name);
  mkdirSync(d, { recursive: true });
  return d;
};
const folderOf = (execution: { backup_path: string }) => path.join(storageDir, execution.backup_path);

async function create(channel: string, input: unknown) {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, r.text);
  return r.body.data;
}

before(async () => {
  work = mkdtempSync('/tmp/dg-backup-test-');
  chmodSync(work, 0o755);
  [pg, maria] = await Promise.all([startPostgres(), startMariadb()]);
  app = await startApp();
  storageDir = dir('storage');
  storageId = (await create('storages.create', { name: 'Local', type: 'local', config: { path: storageDir } })).id;
});

after(async () => {
  await app?.stop();
  await Promise.all([pg?.stop(), maria?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

describe('postgres round trip, every compression', () => {
  const fingerprint = async (db: string) =>
    (await pg.query<{ n: string; sum: string }>(`SELECT count(*)::text AS n, md5(string_agg(t::text, ',' ORDER BY id)) AS sum FROM orders t`, db))[0];

  it('backs up with pg_dump, restores with pg_restore alone, same rows', async () => {
    await pg.createDatabase('shop');
    await pg.query(
      `CREATE TABLE orders AS SELECT g AS id, md5(g::text) AS customer, (g * 1.5)::numeric(10,2) AS total FROM generate_series(1, 20000) g;
       CREATE TABLE logs_2024 AS SELECT g AS id FROM generate_series(1, 10) g;`,
      'shop',
    );
    const before = await fingerprint('shop');
    const ds = await create('datasources.create', {
      name: 'Shop',
      type: 'postgres',
      connection_config: { host: pg.host, port: pg.port, database: 'shop', username: pg.user, password: pg.password },
    });
    for (const compression of COMPRESSIONS) {
      const execution = await runJob(app, {
        name: `pg ${compression}`,
        datasource_id: ds.id,
        storage_location_id: storageId,
        backup_options: { compression, exclude_tables: ['logs_*'], max_file_size_mb: 1 },
      });
      assert.equal(execution.status, 'completed', execution.error_message);
      assert.match(execution.metadata.database_version, /^PostgreSQL 15/);
      assert.ok(execution.chunks.length >= 1);
      const { file, manifest } = recoverByHand(folderOf(execution), dir(`out-pg-${compression}`));
      assert.equal(manifest.datasource_type, 'postgres');
      assert.equal(manifest.chunks.length, execution.chunks.length);
      const target = `restored_${compression}`;
      await pg.createDatabase(target);
      sh(`${pg.binDir}/pg_restore -h ${pg.host} -p ${pg.port} -U ${pg.user} -d ${target} --no-owner ${file}`, { PGPASSWORD: pg.password });
      assert.deepEqual(await fingerprint(target), before, `${compression}: restored rows differ`);
      const logs = await pg.query(`SELECT to_regclass('logs_2024')::text AS t`, target);
      assert.equal(logs[0]!.t, null, 'an excluded table is not in the backup');
    }
  });
});

describe('mariadb round trip', () => {
  it('backs up with mariadb-dump, loads with the mysql client alone, same rows', async () => {
    await maria.createDatabase('loja');
    await maria.query('CREATE TABLE produtos (id INT PRIMARY KEY, nome VARCHAR(100), preco DECIMAL(10,2))', 'loja');
    const values = Array.from({ length: 3000 }, (_, i) => `(${i + 1}, 'produto ${i + 1} ção', ${(i * 1.25).toFixed(2)})`).join(',');
    await maria.query(`INSERT INTO produtos VALUES ${values}`, 'loja');
    const checksum = async (db: string) => (await maria.query(`CHECKSUM TABLE produtos`, db))[0]!.Checksum;
    const before = await checksum('loja');
    const ds = await create('datasources.create', {
      name: 'Loja',
      type: 'mariadb',
      connection_config: { host: maria.host, port: maria.port, database: 'loja', username: maria.user, password: maria.password },
    });
    for (const compression of ['gzip', 'zstd'] as const) {
      const execution = await runJob(app, {
        name: `maria ${compression}`,
        datasource_id: ds.id,
        storage_location_id: storageId,
        backup_options: { compression },
      });
      assert.equal(execution.status, 'completed', execution.error_message);
      assert.match(execution.metadata.database_version, /^MariaDB/);
      const { file } = recoverByHand(folderOf(execution), dir(`out-maria-${compression}`));
      const target = `loja_${compression}`;
      await maria.createDatabase(target);
      sh(`mariadb -h ${maria.host} -P ${maria.port} -u ${maria.user} ${target} < ${file}`, { MYSQL_PWD: maria.password });
      assert.equal(await checksum(target), before);
    }
  });
});

describe('sqlite round trip', () => {
  it('copies a database while it is being written; the copy opens with sqlite3', async () => {
    const file = path.join(dir('sqlite'), 'app.db');
    const db = new Database(file);
    db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)');
    const insert = db.prepare('INSERT INTO notes (body) VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < 5000; i++) insert.run(`note ${i}`);
    })();
    const ds = await create('datasources.create', { name: 'App', type: 'sqlite', connection_config: { file_path: file } });
    const job = await create('jobs.create', {
      name: 'sqlite',
      datasource_id: ds.id,
      storage_location_id: storageId,
      schedule_cron: '0 3 * * *',
      backup_options: { compression: 'zstd' },
    });
    const run = await create('jobs.run', { id: job.id });
    // Writes keep landing while the backup runs; the copy must still be consistent.
    const writer = setInterval(() => insert.run('written during the backup'), 5);
    const execution = await waitForExecution(app, run.execution_id);
    clearInterval(writer);
    db.close();
    assert.equal(execution.status, 'completed', execution.error_message);
    const { file: copy } = recoverByHand(folderOf(execution), dir('out-sqlite'));
    assert.equal(sh(`sqlite3 ${copy} 'PRAGMA integrity_check;'`).trim(), 'ok');
    assert.ok(Number(sh(`sqlite3 ${copy} 'SELECT count(*) FROM notes;'`)) >= 5000);
  });
});

describe('folder round trip', () => {
  it('tars nested folders, a symlink and modes, honours exclude patterns; tar -x gives the same tree', async () => {
    const src = dir('files-src');
    mkdirSync(path.join(src, 'docs/deep/er'), { recursive: true });
    mkdirSync(path.join(src, 'temp'));
    writeFileSync(path.join(src, 'docs/a.txt'), 'hello');
    writeFileSync(path.join(src, 'docs/deep/er/b.bin'), randomBytes(300_000));
    writeFileSync(path.join(src, 'run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
    writeFileSync(path.join(src, 'debug.log'), 'excluded');
    writeFileSync(path.join(src, 'temp/scratch'), 'excluded');
    writeFileSync(path.join(src, 'empty'), '');
    symlinkSync('docs/a.txt', path.join(src, 'link-to-a'));
    const ds = await create('datasources.create', {
      name: 'Uploads',
      type: 'files',
      connection_config: { source_path: src, exclude_patterns: ['*.log', 'temp/*'] },
    });
    for (const compression of COMPRESSIONS) {
      const execution = await runJob(app, {
        name: `files ${compression}`,
        datasource_id: ds.id,
        storage_location_id: storageId,
        backup_options: { compression },
      });
      assert.equal(execution.status, 'completed', execution.error_message);
      const out = dir(`out-files-${compression}`);
      const { file } = recoverByHand(folderOf(execution), out);
      const tree = dir(`tree-${compression}`);
      sh(`tar -xf ${file} -C ${tree}`);
      assert.equal(readFileSync(path.join(tree, 'docs/a.txt'), 'utf8'), 'hello');
      assert.deepEqual(readFileSync(path.join(tree, 'docs/deep/er/b.bin')), readFileSync(path.join(src, 'docs/deep/er/b.bin')));
      assert.equal(statSync(path.join(tree, 'run.sh')).mode & 0o777, 0o755);
      assert.equal(readlinkSync(path.join(tree, 'link-to-a')), 'docs/a.txt');
      assert.equal(statSync(path.join(tree, 'empty')).size, 0);
      assert.ok(!readdirSync(tree).includes('debug.log'), 'excluded by *.log');
      assert.ok(!readdirSync(tree).includes('temp'), 'excluded by temp/*');
      assert.equal(execution.files_count, 5);
    }
  });
});

describe('download', () => {
  it('GET /api/executions/:id/download streams the joined artifact', async () => {
    const list = (await app.http('GET', '/api/executions?status=completed&limit=1')).body;
    const execution = (await app.rpc('executions.get', { id: list[0].id })).body.data;
    const res = await app.fetch(`/api/executions/${execution.id}/download`);
    assert.equal(res.status, 200);
    // Named after the job and the backup's folder, not "backup.dump.gz" for every one.
    const name = `${execution.job_name}-${execution.backup_path.split('/').pop()}.${execution.metadata.artifact.replace(/^backup\./, '')}`;
    assert.match(res.headers.get('content-disposition')!, new RegExp(`^attachment; filename="${name.replace(/[.()]/g, '\\$&')}"`));
    const body = Buffer.from(await res.arrayBuffer());
    const { createHash } = await import('node:crypto');
    assert.equal(`sha256:${createHash('sha256').update(body).digest('hex')}`, execution.metadata.checksum);

    // The job's folder on the storage says which job it is, and how to restore by hand.
    const readme = readFileSync(path.join(storageDir, execution.job_id, 'README.txt'), 'utf8');
    assert.match(readme, new RegExp(`^DataGuardian backups of the job "${execution.job_name}"\nDatasource: ${execution.datasource_name} \\(`));
    assert.match(readme, new RegExp(`sha256sum ${execution.metadata.artifact.replace(/\./g, '\\.')}`));
  });
});
