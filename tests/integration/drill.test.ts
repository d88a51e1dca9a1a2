// Drills, with real servers: PostgreSQL, MariaDB, SQLite and folders backed up to two storages (a local
// folder and an S3-compatible server), their row counts recorded in the manifest, then restored into
// scratch targets and checked against what was recorded.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { startMariadb, startPostgres, startS3 } from '../harness/index.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';
import { runJob } from '../support/backups.js';

let app: AppUnderTest;
let pg: Awaited<ReturnType<typeof startPostgres>>;
let maria: Awaited<ReturnType<typeof startMariadb>>;
let s3: Awaited<ReturnType<typeof startS3>>;
let work: string;
let localDir: string;
let local: { id: string; name: string };
let bucket: { id: string; name: string };

async function call(channel: string, input: unknown = {}) {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, r.text);
  return r.body.data;
}

/** The manifest of a backup's copy on the local storage. */
const manifestOf = (backup: Json): Json => JSON.parse(readFileSync(path.join(localDir, backup.backup_path, 'manifest.json'), 'utf8'));

const jobs: Record<string, { job: Json; backup: Json }> = {};

async function backUp(name: string, datasource: Json, extra: Record<string, unknown> = {}) {
  const backup = await runJob(app, {
    name,
    datasource_id: datasource.id,
    storage_location_ids: [local.id, bucket.id],
    storage_strategy: 'replicate',
    backup_options: { compression: 'zstd' },
    ...extra,
  });
  assert.equal(backup.status, 'completed', backup.error_message);
  jobs[name] = { job: { id: backup.job_id }, backup };
  return backup;
}

before(async () => {
  work = mkdtempSync('/tmp/dg-drill-test-');
  chmodSync(work, 0o755);
  [pg, maria, s3] = await Promise.all([startPostgres(), startMariadb(), startS3()]);
  await s3.createBucket('dg-drill');
  app = await startApp();
  localDir = path.join(work, 'storage');
  mkdirSync(localDir);
  local = await call('storages.create', { name: 'Local', type: 'local', config: { path: localDir } });
  bucket = await call('storages.create', {
    name: 'Backblaze',
    type: 'minio',
    config: { endpoint: s3.endpoint, bucket: 'dg-drill', access_key: s3.accessKeyId, secret_key: s3.secretAccessKey },
  });

  await pg.createDatabase('shop');
  await pg.query(`CREATE TABLE orders (id int PRIMARY KEY, total numeric, note text)`, 'shop');
  await pg.query(`INSERT INTO orders SELECT g, g * 1.5, repeat('x', g % 50) FROM generate_series(1, 5000) g`, 'shop');
  await pg.query(`CREATE SCHEMA billing; CREATE TABLE billing.invoices (id int PRIMARY KEY, order_id int)`, 'shop');
  await pg.query(`INSERT INTO billing.invoices SELECT g, g FROM generate_series(1, 120) g`, 'shop');
  const shop = await call('datasources.create', {
    name: 'Shop',
    type: 'postgres',
    connection_config: { host: pg.host, port: pg.port, database: 'shop', username: pg.user, password: pg.password },
  });
  await backUp('Shop', shop);

  await maria.createDatabase('crm');
  await maria.query('CREATE TABLE clients (id INT PRIMARY KEY, name VARCHAR(64))', 'crm');
  await maria.query(`INSERT INTO clients VALUES (1, 'Ana'), (2, 'Bruno'), (3, 'Carla')`, 'crm');
  await maria.query('CREATE TABLE visits (id INT PRIMARY KEY, client_id INT)', 'crm');
  const crm = await call('datasources.create', {
    name: 'CRM',
    type: 'mariadb',
    connection_config: { host: maria.host, port: maria.port, database: 'crm', username: maria.user, password: maria.password },
  });
  await backUp('CRM', crm);

  const file = path.join(work, 'app.db');
  const db = new Database(file);
  db.exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); CREATE TABLE tags (name TEXT)`);
  const insert = db.prepare('INSERT INTO notes (body) VALUES (?)');
  for (let i = 0; i < 250; i++) insert.run(`note ${i}`);
  db.close();
  const notes = await call('datasources.create', { name: 'Notes', type: 'sqlite', connection_config: { file_path: file } });
  await backUp('Notes', notes);

  const folder = path.join(work, 'docs');
  mkdirSync(path.join(folder, 'sub'), { recursive: true });
  for (let i = 0; i < 20; i++) writeFileSync(path.join(folder, i % 2 ? 'sub' : '', `file-${i}.txt`), `content of file ${i}\n`.repeat(i + 1));
  const docs = await call('datasources.create', { name: 'Docs', type: 'files', connection_config: { source_path: folder } });
  await backUp('Docs', docs);
});

after(async () => {
  await app?.stop();
  await Promise.all([pg?.stop(), maria?.stop(), s3?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

describe('row counts recorded at backup time', () => {
  it('postgres: counted exactly in the snapshot pg_dump read, per schema-qualified table', () => {
    const m = manifestOf(jobs.Shop!.backup);
    assert.deepEqual(m.metadata.table_rows, [
      { table: 'billing.invoices', rows: 120, estimated: false },
      { table: 'public.orders', rows: 5000, estimated: false },
    ]);
    assert.deepEqual(jobs.Shop!.backup.metadata.table_rows, m.metadata.table_rows);
  });

  it('mariadb: counted beside the dump, in a snapshot of their own, and labelled estimates', () => {
    const m = manifestOf(jobs.CRM!.backup);
    assert.deepEqual(m.metadata.table_rows, [
      { table: 'clients', rows: 3, estimated: true },
      { table: 'visits', rows: 0, estimated: true },
    ]);
  });

  it('sqlite: counted in the copy that was backed up', () => {
    const m = manifestOf(jobs.Notes!.backup);
    assert.deepEqual(m.metadata.table_rows, [
      { table: 'notes', rows: 250, estimated: false },
      { table: 'tags', rows: 0, estimated: false },
    ]);
  });

  it('folders: files, their bytes and the hashes of a sample of them', () => {
    const m = manifestOf(jobs.Docs!.backup);
    assert.equal(m.metadata.files_count, 20);
    const expected = Array.from({ length: 20 }, (_, i) => `content of file ${i}\n`.repeat(i + 1).length).reduce((a, b) => a + b, 0);
    assert.equal(m.metadata.files_bytes, expected);
    // The 1st, 2nd, 4th, 8th and 16th file archived.
    assert.equal(m.metadata.file_samples.length, 5);
    for (const s of m.metadata.file_samples) assert.match(s.sha256, /^[0-9a-f]{64}$/);
  });
});
