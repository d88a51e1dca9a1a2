// Looking inside a backup: the table of contents written with it (encrypted when the backup is) pages through a folder of
// 5,000 entries and finds names; a database backup lists its tables with sizes. A table of contents that does not match
// its checksum is not used: the archive is read instead, and the answer says so.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { startMariadb, startPostgres, type MariaServer, type PgServer } from '../harness/index.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';
import { runJob, waitForExecution } from '../support/backups.js';

let app: AppUnderTest;
let work: string;
let pg: PgServer;
let maria: MariaServer;
let storage: { id: string; dir: string };

async function call(channel: string, input: unknown = {}) {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, r.text);
  return r.body.data;
}

const entries = (id: string, query = '') => app.http('GET', `/api/backups/${id}/entries${query}`);
const folderOf = (e: Json) => path.join(storage.dir, e.backup_path);

/** 5,000 entries: unicode and newline names, symlinks, a hard link, empty folders and a 50 MB file. */
function makeFolder(src: string) {
  for (let i = 0; i < 4960; i++) {
    const folder = path.join(src, `dept-${i % 8}`, `year-${2000 + (i % 5)}`);
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, `file-${i}.txt`), `file ${i}\n`.repeat(i % 30));
  }
  writeFileSync(path.join(src, 'ünïcødé façade.txt'), 'unicode');
  writeFileSync(path.join(src, 'two\nlines.txt'), 'newline');
  symlinkSync('dept-0/year-2000/file-0.txt', path.join(src, 'shortcut'));
  linkSync(path.join(src, 'ünïcødé façade.txt'), path.join(src, 'hard-link.txt'));
  for (let i = 0; i < 5; i++) mkdirSync(path.join(src, `empty-${i}`));
  writeFileSync(path.join(src, 'big.bin'), randomBytes(50 * 1024 * 1024));
}

before(async () => {
  work = mkdtempSync('/tmp/dg-contents-');
  chmodSync(work, 0o755);
  [pg, maria, app] = await Promise.all([startPostgres(), startMariadb(), startApp()]);
  const dir = path.join(work, 'storage');
  mkdirSync(dir);
  storage = { dir, id: (await call('storages.create', { name: 'Disk', type: 'local', config: { path: dir } })).id };
});

after(async () => {
  await Promise.all([app?.stop(), pg?.stop(), maria?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

describe('the contents of a folder backup', () => {
  let src: string;
  let ds: Json;
  before(() => {
    src = path.join(work, 'office');
    makeFolder(src);
  });

  it('pages through the tree, folders first, and finds names anywhere (encrypted table of contents)', async () => {
    await app.http('POST', '/api/encryption/setup', {});
    ds = await call('datasources.create', { name: 'Office', type: 'files', connection_config: { source_path: src } });
    const backup = await runJob(app, {
      name: 'Office sealed',
      datasource_id: ds.id,
      storage_location_id: storage.id,
      backup_options: { compression: 'zstd', encryption: 'age' },
    });
    assert.equal(backup.status, 'completed', backup.error_message);
    const manifest = JSON.parse(readFileSync(path.join(folderOf(backup), 'manifest.json'), 'utf8'));
    assert.equal(manifest.toc.file, 'toc.json.gz.age');
    const stored = readFileSync(path.join(folderOf(backup), manifest.toc.file));
    assert.equal(stored.subarray(0, 22).toString(), 'age-encryption.org/v1\n', 'encrypted like the backup');
    assert.equal(stored.length, manifest.toc.size_bytes);

    const top = await entries(backup.id);
    assert.equal(top.status, 200, top.text);
    assert.equal(top.body.kind, 'files');
    assert.equal(top.body.source, 'toc');
    assert.equal(top.body.message, null);
    const names = top.body.entries.map((e: Json) => e.name);
    assert.deepEqual(names.slice(0, 13), [...Array.from({ length: 8 }, (_, i) => `dept-${i}`), ...Array.from({ length: 5 }, (_, i) => `empty-${i}`)]);
    assert.ok(names.includes('two\nlines.txt') && names.includes('ünïcødé façade.txt'));
    const big = top.body.entries.find((e: Json) => e.name === 'big.bin');
    assert.equal(big.size, 50 * 1024 * 1024);
    assert.equal(big.type, 'file');
    assert.equal(top.body.entries.find((e: Json) => e.name === 'shortcut').link, 'dept-0/year-2000/file-0.txt');

    // 4960 files / 8 departments / 5 years: 124 files in each year's folder, in pages of 50.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Json = await entries(backup.id, `?path=dept-3/year-2003&limit=50${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(page.status, 200, page.text);
      assert.equal(page.body.total, 124);
      seen.push(...page.body.entries.map((e: Json) => e.path));
      cursor = page.body.next_cursor;
    } while (cursor);
    assert.equal(seen.length, 124);
    assert.equal(new Set(seen).size, 124);
    assert.ok(seen.every((p) => p.startsWith('dept-3/year-2003/file-')));

    const found = await entries(backup.id, `?q=${encodeURIComponent('FAÇADE')}`);
    assert.deepEqual(
      found.body.entries.map((e: Json) => e.path),
      ['ünïcødé façade.txt'],
    );
    const deep = await entries(backup.id, '?q=file-4959.txt');
    assert.deepEqual(
      deep.body.entries.map((e: Json) => e.path),
      ['dept-7/year-2004/file-4959.txt'],
    );
  });

  it('restores a chosen file, a folder and a symlink from the encrypted backup into a new folder: the same bytes, modes and mtimes, nothing else', async () => {
    const list = await call('backups.datasource', { id: ds.id });
    const backup = list.backups[0];
    const into = path.join(work, 'taken-out');
    const chosen = ['dept-3/year-2003/file-123.txt', 'dept-1', 'shortcut', 'two\nlines.txt'];
    const r = await app.http('POST', `/api/backups/${backup.id}/restore`, { target_path: into, paths: chosen });
    assert.equal(r.status, 202, r.text);
    const done = await waitForExecution(app, r.body.execution_id);
    assert.equal(done.status, 'completed', done.error_message);
    const logs = done.metadata.execution_logs.map((l: Json) => l.message).join('\n');
    const read = /(\S+ \S+) read from Disk \(of (\S+ \S+)\); every frame matches its SHA-256/.exec(logs);
    assert.ok(read, logs);

    const expected = new Set(['dept-3', 'dept-3/year-2003', 'dept-3/year-2003/file-123.txt', 'shortcut', 'two\nlines.txt', 'dept-1']);
    for (const f of readdirSync(path.join(src, 'dept-1'), { recursive: true }) as string[]) expected.add(`dept-1/${f}`);
    const written = new Set(readdirSync(into, { recursive: true }) as string[]);
    assert.deepEqual([...written].sort(), [...expected].sort(), 'nothing else is written');
    for (const rel of expected) {
      if (rel === 'dept-3' || rel === 'dept-3/year-2003') continue;
      const [a, b] = [lstatSync(path.join(src, rel)), lstatSync(path.join(into, rel))];
      assert.equal(b.mode, a.mode, `${rel}: mode`);
      assert.equal(Math.floor(b.mtimeMs / 1000), Math.floor(a.mtimeMs / 1000), `${rel}: mtime ${a.mtimeMs} ${b.mtimeMs} ${a.ctimeMs}`);
      if (a.isFile()) assert.ok(readFileSync(path.join(into, rel)).equals(readFileSync(path.join(src, rel))), `${rel}: bytes`);
      if (a.isSymbolicLink()) assert.equal(readlinkSync(path.join(into, rel)), readlinkSync(path.join(src, rel)));
    }
  });

  it('downloads one file of the encrypted backup, streamed and decrypted: the same bytes', async () => {
    const list = await call('backups.datasource', { id: ds.id });
    const id = list.backups[0].id;
    for (const file of ['big.bin', 'ünïcødé façade.txt', 'dept-7/year-2004/file-4959.txt']) {
      const r = await app.fetch(`/api/backups/${id}/file?path=${encodeURIComponent(file)}`);
      assert.equal(r.status, 200, file);
      assert.ok(Buffer.from(await r.arrayBuffer()).equals(readFileSync(path.join(src, file))), `${file}: bytes`);
    }
    for (const bad of ['../etc/passwd', '/etc/passwd', 'a%00b', '']) {
      const r = await app.fetch(`/api/backups/${id}/file?path=${bad}`);
      assert.equal(r.status, 400, bad);
    }
    const missing = await app.fetch(`/api/backups/${id}/file?path=dept-1`);
    assert.equal(missing.status, 404, 'a folder is not a file');
  });

  it('refuses to restore paths that climb out, are absolute, hold a NUL, or are not in the backup', async () => {
    const list = await call('backups.datasource', { id: ds.id });
    const id = list.backups[0].id;
    const into = path.join(work, 'never');
    for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'a\0b', '']) {
      const r = await app.http('POST', `/api/backups/${id}/restore`, { target_path: into, paths: [bad] });
      assert.equal(r.status, 400, `${JSON.stringify(bad)}: ${r.text}`);
    }
    const r = await app.http('POST', `/api/backups/${id}/restore`, { target_path: into, paths: ['no-such-file'] });
    assert.equal(r.status, 202, r.text);
    const done = await waitForExecution(app, r.body.execution_id);
    assert.equal(done.status, 'failed');
    assert.match(done.error_message, /“no-such-file” is not in this backup/);
    assert.equal(existsSync(into), false, 'nothing was written');
  });

  it('refuses a path that climbs out, is absolute or holds a NUL', async () => {
    const list = await call('backups.datasource', { id: ds.id });
    const id = list.backups[0].id;
    for (const bad of ['../x', 'a/../../x', '/etc', 'a%00b']) {
      const r = await entries(id, `?path=${bad.includes('%') ? bad : encodeURIComponent(bad)}`);
      assert.equal(r.status, 400, `${bad}: ${r.text}`);
      assert.equal(r.body.error?.code ?? r.body.code, 'validation_error', r.text);
    }
  });

  it('a table of contents whose checksum does not match is not used: the archive is read, and the answer says so', async () => {
    const backup = await runJob(app, {
      name: 'Office plain',
      datasource_id: ds.id,
      storage_location_id: storage.id,
      backup_options: { compression: 'lz4', encryption: 'none' },
    });
    assert.equal(backup.status, 'completed', backup.error_message);
    const file = path.join(folderOf(backup), 'toc.json.gz');
    const bytes = readFileSync(file);
    bytes[bytes.length - 10]! ^= 0xff;
    rmSync(file);
    writeFileSync(file, bytes);
    const r = await entries(backup.id, '?q=file-4959.txt');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.source, 'archive');
    assert.match(r.body.message, /checksum does not match/);
    assert.deepEqual(
      r.body.entries.map((e: Json) => e.path),
      ['dept-7/year-2004/file-4959.txt'],
    );

    const into = path.join(work, 'from-the-archive');
    const restore = await app.http('POST', `/api/backups/${backup.id}/restore`, { target_path: into, paths: ['dept-7/year-2004/file-4959.txt'] });
    const done = await waitForExecution(app, restore.body.execution_id);
    assert.equal(done.status, 'completed', done.error_message);
    const logs = done.metadata.execution_logs.map((l: Json) => l.message).join('\n');
    assert.match(logs, /The table of contents was not used \(Disk: its checksum does not match.*\): the whole archive is read instead/);
    assert.deepEqual(readdirSync(into, { recursive: true }), ['dept-7', 'dept-7/year-2004', 'dept-7/year-2004/file-4959.txt']);
    assert.ok(readFileSync(path.join(into, 'dept-7/year-2004/file-4959.txt')).equals(readFileSync(path.join(src, 'dept-7/year-2004/file-4959.txt'))));
  });
});

describe('the contents of a database backup', () => {
  it('PostgreSQL: tables with their schema, row estimate and size, a unicode name included', async () => {
    await pg.createDatabase('shop');
    await pg.query(
      `CREATE TABLE customers (id serial PRIMARY KEY, name text);
       CREATE TABLE orders (id serial PRIMARY KEY, customer_id int REFERENCES customers(id), total int);
       CREATE INDEX orders_total ON orders(total);
       CREATE TABLE "café" (x int);
       INSERT INTO customers (name) SELECT 'c' || g FROM generate_series(1, 1000) g;
       INSERT INTO orders (customer_id, total) SELECT 1 + g % 1000, g FROM generate_series(1, 5000) g;
       ANALYZE;`,
      'shop',
    );
    const ds = await call('datasources.create', {
      name: 'Shop',
      type: 'postgres',
      connection_config: { host: pg.host, port: pg.port, database: 'shop', username: pg.user, password: pg.password },
    });
    const backup = await runJob(app, { name: 'Shop', datasource_id: ds.id, storage_location_id: storage.id, backup_options: { compression: 'zstd' } });
    assert.equal(backup.status, 'completed', backup.error_message);
    const r = await entries(backup.id);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.kind, 'tables');
    const tables = Object.fromEntries(r.body.entries.filter((e: Json) => e.type === 'TABLE').map((e: Json) => [e.path, e]));
    assert.deepEqual(Object.keys(tables).sort(), ['public.café', 'public.customers', 'public.orders']);
    assert.equal(tables['public.orders'].rows, 5000);
    assert.ok(tables['public.orders'].size > 100_000, `${tables['public.orders'].size} bytes`);
    assert.ok(r.body.entries.some((e: Json) => e.type === 'SEQUENCE' && e.name === 'orders_id_seq'));
  });

  it('MariaDB: five tables (one with a trigger), a view and a routine', async () => {
    await maria.createDatabase('loja');
    for (const t of ['clientes', 'pedidos', 'produtos', 'estoque', 'notas'])
      await maria.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, nome VARCHAR(50))`, 'loja');
    await maria.query("INSERT INTO pedidos VALUES (1, 'a'), (2, 'b')", 'loja');
    await maria.query('CREATE TRIGGER pedidos_bi BEFORE INSERT ON pedidos FOR EACH ROW SET NEW.nome = UPPER(NEW.nome)', 'loja');
    await maria.query('CREATE VIEW resumo AS SELECT count(*) AS n FROM pedidos', 'loja');
    await maria.query('CREATE PROCEDURE limpar() BEGIN DELETE FROM notas; END', 'loja');
    const ds = await call('datasources.create', {
      name: 'Loja',
      type: 'mariadb',
      connection_config: { host: maria.host, port: maria.port, database: 'loja', username: maria.user, password: maria.password },
    });
    const backup = await runJob(app, { name: 'Loja', datasource_id: ds.id, storage_location_id: storage.id, backup_options: { compression: 'gzip' } });
    assert.equal(backup.status, 'completed', backup.error_message);
    const r = await entries(backup.id);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.entries.map((e: Json) => `${e.type} ${e.name}`).sort(), [
      'PROCEDURE limpar',
      'TABLE clientes',
      'TABLE estoque',
      'TABLE notas',
      'TABLE pedidos',
      'TABLE produtos',
      'TRIGGER pedidos_bi',
      'VIEW resumo',
    ]);
  });

  it('SQLite: tables with their rows counted', async () => {
    const file = path.join(work, 'app.db');
    const db = new Database(file);
    db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT);');
    const insert = db.prepare('INSERT INTO events (kind) VALUES (?)');
    for (let i = 0; i < 321; i++) insert.run(`k${i}`);
    db.prepare("INSERT INTO users (name) VALUES ('ana')").run();
    db.close();
    const ds = await call('datasources.create', { name: 'App db', type: 'sqlite', connection_config: { file_path: file } });
    const backup = await runJob(app, { name: 'App db', datasource_id: ds.id, storage_location_id: storage.id, backup_options: { compression: 'zstd' } });
    assert.equal(backup.status, 'completed', backup.error_message);
    const r = await entries(backup.id);
    assert.deepEqual(
      r.body.entries.map((e: Json) => [e.name, e.rows]),
      [
        ['events', 321],
        ['users', 1],
      ],
    );
  });
});
