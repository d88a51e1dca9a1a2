// Drills, with real servers: PostgreSQL, MariaDB, SQLite and folders backed up to two storages (a local
// folder and an S3-compatible server), their row counts recorded in the manifest, then restored into
// scratch targets and checked against what was recorded.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { startMariadb, startPostgres, startS3 } from '../harness/index.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';
import { runJob, waitForExecution } from '../support/backups.js';

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

/** Drill now on a job, to its end. */
async function drill(jobId: string): Promise<Json> {
  const r = await app.http('POST', `/api/backup-jobs/${jobId}/drill`);
  assert.equal(r.status, 202, r.text);
  return waitForExecution(app, r.body.execution_id);
}

const scratchDatabases = async () => ({
  pg: (await app.core.db.query(`SELECT datname FROM pg_database WHERE datname LIKE 'dg_drill_%'`)) as unknown[],
  maria: await maria.query(`SHOW DATABASES LIKE 'dg\\_drill\\_%'`),
});

function assertPassed(d: Json) {
  assert.equal(d.status, 'completed', d.error_message);
  assert.equal(d.operation, 'drill');
  const m = d.metadata;
  assert.deepEqual(
    m.phases.map((p: Json) => [p.name, p.ok]),
    ['download', 'checksums', 'decrypt and decompress', 'restore', 'checks'].map((n) => [n, true]),
  );
  const sum = m.phases.reduce((n: number, p: Json) => n + p.seconds, 0);
  assert.ok(Math.abs(m.rto_seconds - sum) < 0.02, `rto ${m.rto_seconds} is the sum of the phases ${sum}`);
  assert.ok(m.rpo_seconds >= 0);
  assert.deepEqual(
    m.copies.map((c: Json) => [c.storage_name, c.ok]),
    [
      ['Local', true],
      ['Backblaze', true],
    ],
  );
  assert.ok(m.checks.length > 0 && m.checks.every((c: Json) => c.ok), JSON.stringify(m.checks));
}

describe('a drill passes, its counts equal, its scratch target gone', () => {
  it('postgres: row counts, amcheck or a full read, the job’s assertions; the scratch database is dropped', async () => {
    await call('jobs.update', {
      id: jobs.Shop!.job.id,
      drill_assertions: ['select count(*) = 5000 from orders', 'select max(total) > 0 from billing.invoices i join orders o on o.id = i.order_id'],
    });
    const d = await drill(jobs.Shop!.job.id);
    assertPassed(d);
    const names = d.metadata.checks.map((c: Json) => c.name);
    assert.equal(names[0], 'Row counts');
    assert.match(d.metadata.checks[0].detail, /2 tables, 5,120 rows, as recorded/);
    assert.ok(['amcheck', 'a full read of every table'].includes(names[1]), names[1]);
    assert.equal(names.filter((n: string) => n.startsWith('Assertion')).length, 2);
    assert.match(d.metadata.scratch, /dg_drill_[0-9a-f]{8}/);
    assert.deepEqual((await scratchDatabases()).pg, []);
    const job = await call('jobs.get', { id: jobs.Shop!.job.id });
    assert.equal(job.last_drill.execution_id, d.id);
    assert.equal(job.last_drill.rto_seconds, d.metadata.rto_seconds);
    // The Overview charts the job's restore time over its drills.
    const overview = await call('overview.get', {});
    const card = overview.jobs.find((j: Json) => j.id === jobs.Shop!.job.id);
    assert.deepEqual(card.drills.at(-1), { execution_id: d.id, at: d.finished_at, status: 'completed', rto_seconds: d.metadata.rto_seconds });
  });

  it('mariadb: CHECK TABLE and counts within the estimate; the scratch schema is dropped', async () => {
    const d = await drill(jobs.CRM!.job.id);
    assertPassed(d);
    assert.deepEqual(
      d.metadata.checks.map((c: Json) => c.name),
      ['Row counts', 'CHECK TABLE'],
    );
    assert.deepEqual((await scratchDatabases()).maria, []);
  });

  it('sqlite: PRAGMA integrity_check and exact counts', async () => {
    const d = await drill(jobs.Notes!.job.id);
    assertPassed(d);
    assert.deepEqual(
      d.metadata.checks.map((c: Json) => [c.name, c.detail]),
      [
        ['Row counts', '2 tables, 250 rows, as recorded'],
        ['PRAGMA integrity_check', 'ok'],
      ],
    );
  });

  it('a restore 50% slower than the last drill’s is a warning', async () => {
    // The last drill, as if its restore had taken a millisecond.
    const [previous] = (await app.core.db.query(
      `INSERT INTO backup_executions (job_id, datasource_id, storage_location_id, operation, status, trigger, backup_type, started_at, finished_at, metadata)
       SELECT job_id, datasource_id, storage_location_id, 'drill', 'completed', 'manual', 'full', now(), now(),
              jsonb_build_object('source_execution_id', id, 'pick', 'latest', 'rto_seconds', 0.001)
       FROM backup_executions WHERE id = $1 RETURNING id`,
      [jobs.Notes!.backup.id],
    )) as { id: string }[];
    assert.ok(previous);
    const d = await drill(jobs.Notes!.job.id);
    assertPassed(d);
    await app.core.notifier.settled();
    const inbox = await call('notifications.list', {});
    const n = inbox.find((x: Json) => x.metadata?.execution_id === d.id);
    assert.equal(n?.severity, 'warning', JSON.stringify(n));
    assert.equal(n.title, 'A full restore of “Notes” got slower');
    assert.match(n.message, /^The drill's restore took \d+ s, against 0 s the last time$/);
  });

  it('folders: files, bytes and the sampled files’ hashes', async () => {
    const d = await drill(jobs.Docs!.job.id);
    assertPassed(d);
    assert.deepEqual(
      d.metadata.checks.map((c: Json) => c.name),
      ['Files', 'Bytes', 'File hashes'],
    );
  });
});

describe('a drill fails, names what, and still removes its scratch target', () => {
  it('two storages, a part changed on one: fails naming that storage and part, and reports the other copy good', async () => {
    const folder = path.join(work, 'big');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'random.bin'), randomBytes(3 * 1024 * 1024));
    const ds = await call('datasources.create', { name: 'Big', type: 'files', connection_config: { source_path: folder } });
    const backup = await backUp('Big', ds, { backup_options: { compression: 'none', max_file_size_mb: 1 } });
    flipByte(path.join(localDir, backup.backup_path, `${manifestOf(backup).artifact}.part-002`));
    const d = await drill(backup.job_id);
    assert.equal(d.status, 'failed');
    assert.match(d.error_message, /^checksums: part-002 on Local: checksum mismatch$/);
    assert.deepEqual(
      d.metadata.copies.map((c: Json) => [c.storage_name, c.ok, c.error]),
      [
        ['Local', false, 'part-002 on Local: checksum mismatch'],
        ['Backblaze', true, null],
      ],
    );
    // The good copy was still restored and checked: the damage is on one storage only.
    assert.ok(d.metadata.checks.length > 0 && d.metadata.checks.every((c: Json) => c.ok));
    const inbox = await call('notifications.list', {});
    const n = inbox.find((x: Json) => x.metadata?.execution_id === d.id);
    assert.equal(n.severity, 'critical');
    assert.match(n.message, /part-002 on Local: checksum mismatch/);
  });

  it('data that no longer matches its recorded row counts fails naming the table', async () => {
    // A second backup with one row fewer; the first backup's catalog is pointed at its dump, checksums and all.
    const file = path.join(work, 'app.db');
    const db = new Database(file);
    db.exec('DELETE FROM notes WHERE id = 7');
    db.close();
    const first = jobs.Notes!.backup;
    const run = await app.http('POST', `/api/backup-jobs/${first.job_id}/run`);
    const second = await waitForExecution(app, run.body.execution_id);
    assert.equal(second.status, 'completed', second.error_message);
    await app.core.db.query(
      `UPDATE backup_chunks c SET file_path = s.file_path, checksum = s.checksum, size_bytes = s.size_bytes
       FROM backup_chunks s WHERE c.execution_id = $1 AND s.execution_id = $2 AND s.chunk_number = c.chunk_number`,
      [first.id, second.id],
    );
    await app.core.db.query(`UPDATE backup_copies SET backup_path = $2 WHERE execution_id = $1`, [first.id, second.backup_path]);
    await app.core.db.query(`UPDATE backup_executions SET metadata = jsonb_set(metadata, '{checksum}', $2::jsonb) WHERE id = $1`, [
      first.id,
      JSON.stringify(second.metadata.checksum),
    ]);
    await call('jobs.update', { id: first.job_id, drill_pick: 'oldest' });
    const d = await drill(first.job_id);
    assert.equal(d.metadata.source_execution_id, first.id);
    assert.equal(d.status, 'failed');
    assert.match(d.error_message, /^checks: Row counts: notes has 249 rows, 250 recorded$/);
  });

  it('an assertion that returns false fails naming it; the scratch database is dropped', async () => {
    await call('jobs.update', { id: jobs.Shop!.job.id, drill_assertions: ['select count(*) = 5000 from orders', 'select count(*) > 999999 from orders'] });
    const d = await drill(jobs.Shop!.job.id);
    assert.equal(d.status, 'failed');
    assert.match(d.error_message, /Assertion “select count\(\*\) > 999999 from orders”: returned false, not true/);
    assert.deepEqual((await scratchDatabases()).pg, []);
  });

  it('a test restore of a backup is a drill of it (one code path)', async () => {
    const r = await app.http('POST', `/api/backups/${jobs.Notes!.backup.id}/verify`, { method: 'restore-test' });
    assert.equal(r.status, 202, r.text);
    const d = await waitForExecution(app, r.body.execution_id);
    assert.equal(d.operation, 'drill');
    assert.equal(d.metadata.pick, 'backup');
  });
});

describe('encrypted backups', () => {
  it('a drill decrypts with the app’s key; in write-only mode it checks the checksums only, and says so', async () => {
    await call('encryption.setup', {});
    const folder = path.join(work, 'secret');
    mkdirSync(folder);
    for (let i = 0; i < 5; i++) writeFileSync(path.join(folder, `payroll-${i}.csv`), `name,salary\nana,${i}\n`);
    const ds = await call('datasources.create', { name: 'Secret', type: 'files', connection_config: { source_path: folder } });
    const backup = await backUp('Secret', ds, { backup_options: { compression: 'zstd', encryption: 'age' } });
    // The readable manifest names no file of the folder; the catalog keeps the samples for drills.
    assert.equal(manifestOf(backup).metadata.file_samples, undefined);
    assert.equal(backup.metadata.file_samples.length, 3);
    const d = await drill(backup.job_id);
    assertPassed(d);
    assert.match(d.metadata.phases[2].detail, /^Decrypted with age and decompressed/);
    assert.deepEqual(
      d.metadata.checks.map((c: Json) => c.name),
      ['Files', 'Bytes', 'File hashes'],
    );

    await call('encryption.writeOnly', { confirm: true });
    const w = await drill(backup.job_id);
    assert.equal(w.status, 'completed', w.error_message);
    assert.equal(w.metadata.write_only, true);
    assert.deepEqual(
      w.metadata.phases.map((p: Json) => p.name),
      ['download', 'checksums'],
    );
    assert.ok(w.metadata.execution_logs.some((l: Json) => /Write-only mode: .*checksums only/.test(l.message)));
    const job = await call('jobs.get', { id: backup.job_id });
    assert.equal(job.last_drill.rto_seconds, null, 'a drill that restored nothing measured no restore');
  });
});
