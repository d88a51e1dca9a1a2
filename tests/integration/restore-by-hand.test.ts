// The README's "Restore by hand" blocks, run as written through bash on real encrypted backups of every engine
// and every compression: the line of each block whose comment names the compression, and the lines around it.
// Only the standard tools run (age, zstd, gzip, lz4, pg_restore, mariadb, sqlite3, tar); DataGuardian only made
// the backups. Connection details come from the environment, as a user's own shell would have them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { startMariadb, startPostgres } from '../harness/index.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';
import { runJob, sh } from '../support/backups.js';

const README = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
const COMPRESSIONS = ['zstd', 'gzip', 'lz4', 'none'] as const;
type Compression = (typeof COMPRESSIONS)[number];

/** The block under `<!-- restore-by-hand: name -->`, with only the line for `compression` among the alternatives. */
function block(name: string, compression: Compression): string {
  const found = new RegExp(`<!-- restore-by-hand: ${name} -->\\n\`\`\`sh\\n([\\s\\S]*?)\\n\`\`\``).exec(README);
  assert.ok(found, `README has no restore-by-hand block "${name}"`);
  const lines = found[1]!.split('\n');
  const chosen = lines.filter((l) => {
    const alternative = /#\s*(zstd|gzip|lz4|none)\s*$/.exec(l);
    return !alternative || alternative[1] === compression;
  });
  assert.equal(lines.length - chosen.length, 3, `block "${name}" has one line per compression`);
  return chosen.join('\n');
}

let app: AppUnderTest;
let pg: Awaited<ReturnType<typeof startPostgres>>;
let maria: Awaited<ReturnType<typeof startMariadb>>;
let work: string;
let storageDir: string;
let storage: Json;
let recoveryKey: string;
const sources: Record<string, { id: string; parallel?: number }> = {};
/** The zstd backup of each engine, restored through the app too. */
const made: Record<string, Json> = {};

async function call(channel: string, input: unknown = {}) {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, r.text);
  return r.body.data;
}

const orders = async (db: string) =>
  (await pg.query<{ n: string; sum: string }>(`SELECT count(*)::text AS n, md5(string_agg(t::text, ',' ORDER BY id)) AS sum FROM orders t`, db))[0];
// Named in full: a pooled connection to `newdb` may still point at the database the previous case dropped.
// A SELECT rather than CHECKSUM TABLE: CHECKSUM answers NULL for any table it cannot open, a SELECT says why.
const clients = async (db: string) =>
  (
    await maria.query<{ n: number; sum: string }>(
      `SELECT COUNT(*) AS n, MD5(GROUP_CONCAT(id, '|', name, '|', note ORDER BY id SEPARATOR ';')) AS sum FROM ${db}.clients`,
    )
  )[0];

before(async () => {
  work = mkdtempSync('/tmp/dg-by-hand-');
  chmodSync(work, 0o755);
  [pg, maria] = await Promise.all([startPostgres(), startMariadb()]);
  app = await startApp();
  storageDir = path.join(work, 'storage');
  mkdirSync(storageDir);
  storage = await call('storages.create', { name: 'Local', type: 'local', config: { path: storageDir } });
  recoveryKey = (await call('encryption.setup')).recovery_identity;

  await pg.createDatabase('shop');
  // ~4 MB of text: several 1 MB parts whatever the compression.
  await pg.query(
    `CREATE TABLE orders AS SELECT g AS id, md5(g::text) || md5((g * 3)::text) AS note FROM generate_series(1, 60000) g; ALTER TABLE orders ADD PRIMARY KEY (id);`,
    'shop',
  );
  const pgConfig = { host: pg.host, port: pg.port, database: 'shop', username: pg.user, password: pg.password };
  sources.postgres = await call('datasources.create', { name: 'Shop', type: 'postgres', connection_config: pgConfig });
  sources['postgres-directory'] = {
    ...(await call('datasources.create', { name: 'Shop (parallel)', type: 'postgres', connection_config: pgConfig })),
    parallel: 2,
  };

  await maria.query('CREATE DATABASE crm');
  await maria.query('CREATE TABLE clients (id INT PRIMARY KEY, name VARCHAR(64), note TEXT)', 'crm');
  await maria.query(`INSERT INTO clients SELECT seq, CONCAT('Client ', seq), MD5(seq) FROM seq_1_to_3000`, 'crm');
  mkdirSync(path.join(work, 'home'));
  writeFileSync(path.join(work, 'home', '.my.cnf'), `[client]\nhost=${maria.host}\nport=${maria.port}\nuser=${maria.user}\npassword=${maria.password}\n`, {
    mode: 0o600,
  });
  sources.mariadb = await call('datasources.create', {
    name: 'CRM',
    type: 'mariadb',
    connection_config: { host: maria.host, port: maria.port, database: 'crm', username: maria.user, password: maria.password },
  });

  const sqliteFile = path.join(work, 'notes.db');
  const db = new Database(sqliteFile);
  db.exec(
    `CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) INSERT INTO notes SELECT i, 'note ' || i FROM n;`,
  );
  db.close();
  sources.sqlite = await call('datasources.create', { name: 'Notes', type: 'sqlite', connection_config: { file_path: sqliteFile } });

  const folder = path.join(work, 'documents');
  mkdirSync(path.join(folder, 'letters'), { recursive: true });
  writeFileSync(path.join(folder, 'letters', 'a.txt'), 'Dear customer\n'.repeat(100));
  writeFileSync(path.join(folder, 'ledger.csv'), Array.from({ length: 2000 }, (_, i) => `${i},${i * 7}`).join('\n'));
  sources.files = await call('datasources.create', { name: 'Documents', type: 'files', connection_config: { source_path: folder } });
});

after(async () => {
  await app?.stop();
  await Promise.all([pg?.stop(), maria?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

/** Runs a README block in a folder holding one backup's files and the key file, as a user's shell would. */
function runBlock(script: string, cwd: string) {
  execFileSync('bash', ['-e', '-o', 'pipefail', '-c', script], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: `${pg.binDir}:${process.env.PATH}`,
      // The user's own client settings: ~/.my.cnf names the MariaDB server and account.
      HOME: path.join(work, 'home'),
      PGHOST: pg.host,
      PGPORT: String(pg.port),
      PGUSER: pg.user,
      PGPASSWORD: pg.password,
    },
  });
}

describe('the README restores every engine and compression by hand', () => {
  for (const engine of ['postgres', 'postgres-directory', 'mariadb', 'sqlite', 'files']) {
    for (const compression of COMPRESSIONS) {
      it(`${engine}, ${compression}`, async () => {
        const source = sources[engine]!;
        const backup = await runJob(app, {
          name: `${engine} ${compression}`,
          datasource_id: source.id,
          storage_location_id: storage.id,
          backup_options: { compression, max_file_size_mb: 1, ...(source.parallel ? { parallel_jobs: source.parallel } : {}), encryption: 'age' },
        });
        assert.equal(backup.status, 'completed', backup.error_message);
        if (compression === 'zstd') made[engine] = backup;
        const dir = path.join(work, `hand-${engine}-${compression}`);
        cpSync(path.join(storageDir, backup.backup_path), dir, { recursive: true });
        writeFileSync(path.join(dir, 'dataguardian-recovery-key.txt'), `${recoveryKey}\n`, { mode: 0o600 });
        // The files check against the manifest without a key, as the README's first block says.
        const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
        for (const c of manifest.chunks) assert.equal(`sha256:${sh(`cd ${dir} && sha256sum ${c.file}`).split(' ')[0]}`, c.checksum);
        assert.equal(`sha256:${sh(`cd ${dir} && cat backup.*.age* | sha256sum`).split(' ')[0]}`, manifest.checksum);
        if (engine.startsWith('postgres')) await pg.query('DROP DATABASE IF EXISTS newdb');

        // MariaDB: each case restores into a database of its own name. A `newdb` dropped and created again at once
        // was at times missing its table right after the block had restored it (CI, 1 to 3 cases of 4, never the first).
        const newdb = engine === 'mariadb' ? `newdb_${compression}` : 'newdb';
        runBlock(block(engine, compression).replaceAll('newdb', newdb), dir);

        if (engine.startsWith('postgres')) assert.deepEqual(await orders('newdb'), await orders('shop'));
        if (engine === 'mariadb') assert.deepEqual(await clients(newdb), await clients('crm'));
        if (engine === 'sqlite') {
          const read = (file: string) => {
            const db = new Database(file, { readonly: true });
            const rows = db.prepare('SELECT id, body FROM notes ORDER BY id').all();
            db.close();
            return rows;
          };
          assert.deepEqual(read(path.join(dir, 'restored.db')), read(path.join(work, 'notes.db')));
        }
        if (engine === 'files') sh(`diff -r ${path.join(dir, 'restored')} ${path.join(work, 'documents')}`);
        assert.ok(readdirSync(dir).some((f) => f.includes('.age')));
      });
    }
  }
});

describe('the app restores the same encrypted backups with its own key', () => {
  async function restore(backup: Json, body: Record<string, unknown>) {
    const r = await app.http('POST', `/api/backups/${backup.id}/restore`, { safety_backup: false, ...body });
    assert.equal(r.status, 202, r.text);
    for (;;) {
      const e = (await app.rpc('executions.get', { id: r.body.execution_id })).body.data;
      if (!['queued', 'running'].includes(e.status)) return e;
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  it('postgres (both formats), mariadb, sqlite and a folder', async () => {
    for (const engine of ['postgres', 'postgres-directory']) {
      const db = `app_${engine.replace('-', '_')}`;
      const done = await restore(made[engine], { target_database: db });
      assert.equal(done.status, 'completed', done.error_message);
      assert.deepEqual(await orders(db), await orders('shop'));
    }
    const crm = await restore(made.mariadb, { target_database: 'app_crm' });
    assert.equal(crm.status, 'completed', crm.error_message);
    assert.deepEqual(await clients('app_crm'), await clients('crm'));
    const notes = await restore(made.sqlite, { target_path: path.join(work, 'app-notes.db') });
    assert.equal(notes.status, 'completed', notes.error_message);
    const count = new Database(path.join(work, 'app-notes.db'), { readonly: true }).prepare('SELECT count(*) AS n FROM notes').get() as { n: number };
    assert.equal(count.n, 500);
    const folder = await restore(made.files, { target_path: path.join(work, 'app-documents') });
    assert.equal(folder.status, 'completed', folder.error_message);
    sh(`diff -r ${path.join(work, 'app-documents')} ${path.join(work, 'documents')}`);
  });
});
