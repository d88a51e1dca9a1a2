// The engines' restore half against real servers, without the app: dump with `engine.dump` into a
// file, change and delete data, `engine.restore` from that file, compare with `summarize` and a checksum.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  createWriteStream,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import tar from 'tar-stream';
import { filesEngine } from '../../electron/core/engines/files/index.js';
import { mysqlEngine } from '../../electron/core/engines/mysql/index.js';
import { runTool } from '../../electron/core/engines/process.js';
import { postgresEngine } from '../../electron/core/engines/postgres/index.js';
import { sqliteEngine } from '../../electron/core/engines/sqlite/index.js';
import type { BackupEngine, EngineOptions, RestoreOptions, RestoreSource } from '../../electron/core/engines/types.js';
import type { ConnectionConfig } from '../../shared/schemas/datasource.js';
import { removeTempDir, startMariadb, startPostgres, tempDir } from '../harness/index.js';
import { fileSource } from '../../electron/core/engines/source.js';

let pg: Awaited<ReturnType<typeof startPostgres>>;
let maria: Awaited<ReturnType<typeof startMariadb>>;
let work: string;

const signal = new AbortController().signal;
const toolDirs = () => ({ postgres: pg?.binDir ?? null });
const messages: string[] = [];
const log = (level: string, message: string) => void messages.push(`${level}: ${message}`);

const dumpOptions = (): EngineOptions => ({
  includeTables: [],
  excludeTables: [],
  parallelJobs: 1,
  compressedByPipeline: true,
  toolDirs: toolDirs(),
  tempDir: path.join(work, 'secrets'),
  signal,
  log,
});
const restoreOptions = (o: Partial<RestoreOptions> = {}): RestoreOptions => ({
  parallelJobs: 1,
  toolDirs: toolDirs(),
  tempDir: path.join(work, 'secrets'),
  signal,
  log,
  createDatabase: false,
  overwrite: false,
  source: {},
  ...o,
});

/** The artifact as the pipeline would store it, in a local file. */
async function dumpTo(engine: BackupEngine, config: ConnectionConfig, name: string) {
  const file = path.join(work, name);
  const dump = await engine.dump(config, dumpOptions());
  await pipeline(dump.stream, createWriteStream(file));
  return { file, result: await dump.finished };
}

const noSecretsLeft = () => assert.deepEqual(readdirSync(path.join(work, 'secrets')), [], 'credential and list files are removed');

before(async () => {
  work = await tempDir('dg-restore-engines-');
  // The private temp folder the app hands the engines exists before they run (kernel/temp.ts makes it).
  mkdirSync(path.join(work, 'secrets'), { mode: 0o700 });
  [pg, maria] = await Promise.all([startPostgres(), startMariadb()]);
});

after(async () => {
  await Promise.all([pg?.stop(), maria?.stop()]);
  if (work) await removeTempDir(work);
});

describe('postgres', () => {
  const config = (database: string) =>
    ({ host: pg.host, port: pg.port, database, username: pg.user, password: pg.password, ssl_enabled: false }) as ConnectionConfig;
  const fingerprint = async (db: string) =>
    (await pg.query<{ sum: string }>(`SELECT md5(string_agg(t::text, ',' ORDER BY id)) AS sum FROM app.orders t`, db))[0]!.sum;

  it('restores into a new database, leaves the original alone, keeps grants, and restores onto the original with -j', async () => {
    await pg.createDatabase('shop');
    await pg.query(
      `CREATE SCHEMA app;
       CREATE TABLE app.customers (id serial PRIMARY KEY, name text NOT NULL);
       CREATE TABLE app.orders (id int PRIMARY KEY, customer int REFERENCES app.customers, total numeric(10,2));
       INSERT INTO app.customers (name) SELECT 'c' || g FROM generate_series(1, 50) g;
       INSERT INTO app.orders SELECT g, 1 + g % 50, g * 1.5 FROM generate_series(1, 20000) g;
       CREATE VIEW app.big AS SELECT * FROM app.orders WHERE total > 100;
       CREATE TABLE public.notes (id int PRIMARY KEY, body text);
       INSERT INTO public.notes VALUES (1, 'ção'), (2, 'b');
       CREATE ROLE reporting; CREATE ROLE ghost;
       GRANT USAGE ON SCHEMA app TO reporting; GRANT SELECT ON app.orders TO reporting, ghost;`,
      'shop',
    );
    const before = await postgresEngine.summarize(config('shop'), { signal });
    assert.deepEqual(before, { tables: 3, rows: 20052 });
    const sum = await fingerprint('shop');
    const { file } = await dumpTo(postgresEngine, config('shop'), 'shop.pgdump');

    // A role the dump grants to is gone: the data must still be restored, the grant is a warning.
    await pg.query('REVOKE SELECT ON app.orders FROM ghost; DROP ROLE ghost;', 'shop');
    await pg.query("DELETE FROM app.orders WHERE id > 100; UPDATE public.notes SET body = 'changed'", 'shop');
    const changed = await postgresEngine.summarize(config('shop'), { signal });

    messages.length = 0;
    const result = await postgresEngine.restore(config('shop_copy'), fileSource(file), restoreOptions({ createDatabase: true }));
    assert.equal(typeof result.engine_output, 'string');
    assert.deepEqual(await postgresEngine.summarize(config('shop_copy'), { signal }), before);
    assert.equal(await fingerprint('shop_copy'), sum);
    assert.deepEqual(await pg.query(`SELECT body FROM notes ORDER BY id`, 'shop_copy'), [{ body: 'ção' }, { body: 'b' }]);
    assert.deepEqual(await pg.query(`SELECT count(*)::int AS n FROM app.big`, 'shop_copy'), [{ n: 19934 }]);
    const [grant] = await pg.query<{ ok: boolean }>(`SELECT has_table_privilege('reporting', 'app.orders', 'SELECT') AS ok`, 'shop_copy');
    assert.equal(grant!.ok, true, 'the grant to an existing role is restored');
    assert.ok(
      messages.some((m) => /^warn: 1 grant\(s\) of the backup were not restored.*role "ghost" does not exist/.test(m)),
      messages.join('\n'),
    );
    assert.deepEqual(await postgresEngine.summarize(config('shop'), { signal }), changed, 'the original database is untouched');
    noSecretsLeft();

    // Onto the datasource itself: --clean replaces what is there, in parallel.
    await postgresEngine.restore(config('shop'), fileSource(file), restoreOptions({ parallelJobs: 3 }));
    assert.deepEqual(await postgresEngine.summarize(config('shop'), { signal }), before);
    assert.equal(await fingerprint('shop'), sum);
    assert.deepEqual(await pg.query(`SELECT body FROM notes ORDER BY id`, 'shop'), [{ body: 'ção' }, { body: 'b' }]);
    noSecretsLeft();
  });

  it('a backup that cannot be read further while pg_restore streams it stops the restore: its one transaction leaves nothing', async () => {
    const file = path.join(work, 'shop.pgdump');
    const whole = readFileSync(file);
    // The head (the archive's list) reads fine; the data breaks off halfway, as a decoder failing mid-stream would.
    const cut: RestoreSource = {
      open: () =>
        Readable.from(
          (async function* () {
            yield whole.subarray(0, whole.length >> 1);
            throw new Error('the stream broke off');
          })(),
        ),
      file: async () => file,
    };
    await assert.rejects(
      postgresEngine.restore(config('shop_cut'), cut, restoreOptions({ createDatabase: true })),
      /Could not read the backup: the stream broke off/,
    );
    const tables = await pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname IN ('app', 'public')`, 'shop_cut');
    assert.deepEqual(tables, [{ n: 0 }], 'nothing of the backup is in the database');
    noSecretsLeft();
  });

  it('refuses to "create" a database that exists, and reports pg_restore\'s own words', async () => {
    await assert.rejects(
      postgresEngine.restore(config('shop'), fileSource(path.join(work, 'shop.pgdump')), restoreOptions({ createDatabase: true })),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'conflict');
        assert.match(e.message, /Database shop already exists/);
        return true;
      },
    );
    const junk = path.join(work, 'junk.pgdump');
    writeFileSync(junk, 'not an archive');
    await assert.rejects(postgresEngine.restore(config('shop'), fileSource(junk), restoreOptions()), /pg_restore failed: .*(valid archive|input file)/);
    noSecretsLeft();
  });
});

describe('mariadb', () => {
  const config = (database: string) =>
    ({ host: maria.host, port: maria.port, database, username: maria.user, password: maria.password, ssl_enabled: false }) as ConnectionConfig;
  const checksum = async (db: string) => (await maria.query<{ Checksum: number }>('CHECKSUM TABLE produtos', db))[0]!.Checksum;

  it('the dump names no database, so it restores into a new one without touching the original', async () => {
    await maria.createDatabase('loja');
    await maria.query('CREATE TABLE produtos (id INT PRIMARY KEY, nome VARCHAR(100), preco DECIMAL(10,2), foto BLOB)', 'loja');
    await maria.query('CREATE TABLE vendas (id INT AUTO_INCREMENT PRIMARY KEY, produto INT, FOREIGN KEY (produto) REFERENCES produtos(id))', 'loja');
    const values = Array.from(
      { length: 3000 },
      (_, i) => `(${i + 1}, 'produto ${i + 1} ção', ${(i * 1.25).toFixed(2)}, X'00ff${(i % 256).toString(16).padStart(2, '0')}')`,
    ).join(',');
    await maria.query(`INSERT INTO produtos VALUES ${values}`, 'loja');
    await maria.query('INSERT INTO vendas (produto) SELECT id FROM produtos WHERE id <= 40', 'loja');
    await maria.query('CREATE VIEW caros AS SELECT * FROM produtos WHERE preco > 100', 'loja');
    await maria.query('CREATE TRIGGER conta BEFORE INSERT ON vendas FOR EACH ROW SET NEW.produto = NEW.produto', 'loja');
    await maria.query('CREATE PROCEDURE total() SELECT COUNT(*) FROM produtos', 'loja');
    // A routine whose database collation differs from the database's makes mysqldump wrap it in ALTER DATABASE.
    await maria.query('ALTER DATABASE loja CHARACTER SET latin1', 'loja');

    const before = await mysqlEngine.summarize(config('loja'), { signal });
    assert.deepEqual(before, { tables: 2, rows: 3040 });
    const sum = await checksum('loja');
    const { file } = await dumpTo(mysqlEngine, config('loja'), 'loja.sql');
    const sql = readFileSync(file, 'utf8');
    assert.doesNotMatch(sql, /^\s*(CREATE DATABASE|USE )/im, 'no statement names a database');
    assert.doesNotMatch(sql, /ALTER DATABASE `?loja`?/i, 'the original database is not named anywhere');

    await maria.query('DELETE FROM vendas WHERE id > 10', 'loja');
    await maria.query('DELETE FROM produtos WHERE id > 2000', 'loja');
    const changed = await mysqlEngine.summarize(config('loja'), { signal });

    await mysqlEngine.restore(config('loja_copy'), fileSource(file), restoreOptions({ createDatabase: true }));
    assert.deepEqual(await mysqlEngine.summarize(config('loja_copy'), { signal }), before);
    assert.equal(await checksum('loja_copy'), sum);
    assert.deepEqual(await maria.query('SELECT COUNT(*) AS n FROM caros', 'loja_copy'), [{ n: 2919 }]);
    assert.equal((await maria.query("SHOW TRIGGERS LIKE 'vendas'", 'loja_copy')).length, 1);
    assert.equal((await maria.query("SHOW PROCEDURE STATUS WHERE Db = 'loja_copy'")).length, 1);
    assert.deepEqual(await mysqlEngine.summarize(config('loja'), { signal }), changed, 'the original database is untouched');
    noSecretsLeft();

    await mysqlEngine.restore(config('loja'), fileSource(file), restoreOptions());
    assert.deepEqual(await mysqlEngine.summarize(config('loja'), { signal }), before);
    assert.equal(await checksum('loja'), sum);
    noSecretsLeft();
  });

  it('refuses to "create" a database that exists, and reports the client\'s own words', async () => {
    await assert.rejects(
      mysqlEngine.restore(config('loja'), fileSource(path.join(work, 'loja.sql')), restoreOptions({ createDatabase: true })),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'conflict');
        return true;
      },
    );
    const junk = path.join(work, 'junk.sql');
    writeFileSync(junk, 'CREATE TABLE ok_before (id INT);\nTHIS IS NOT SQL;\n');
    await assert.rejects(mysqlEngine.restore(config('loja'), fileSource(junk), restoreOptions()), /(mariadb|mysql) failed: .*syntax/i);
    await assert.rejects(mysqlEngine.restore(config('loja'), fileSource(path.join(work, 'missing.sql')), restoreOptions()), /Could not read .*missing\.sql/);
  });
});

describe('sqlite', () => {
  const rowsOf = (file: string) => {
    const db = new Database(file, { readonly: true });
    try {
      return createHash('sha256')
        .update(JSON.stringify(db.prepare('SELECT * FROM notes ORDER BY id').all()))
        .digest('hex');
    } finally {
      db.close();
    }
  };

  it('replaces the file atomically, keeps the previous one with its WAL, and does not replay that WAL', async () => {
    const folder = path.join(work, 'sqlite');
    mkdirSync(folder);
    const file = path.join(folder, 'app.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); CREATE TABLE tags (name TEXT)');
    const insert = db.prepare('INSERT INTO notes (body) VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < 500; i++) insert.run(`note ${i}`);
    })();
    db.close();
    const config = { file_path: file } as ConnectionConfig;
    const before = await sqliteEngine.summarize(config, { signal });
    assert.deepEqual(before, { tables: 2, rows: 500 });
    const sum = rowsOf(file);
    const { file: artifact } = await dumpTo(sqliteEngine, config, 'app.sqlite');

    // Another program wrote and died before a checkpoint: its rows are only in app.db-wal.
    const script = `const D = require('better-sqlite3'); const d = new D(${JSON.stringify(file)}); d.pragma('wal_autocheckpoint = 0');
      d.exec("DELETE FROM notes WHERE id > 100; INSERT INTO notes (body) VALUES ('after the backup')"); process.exit(0);`;
    execFileSync(process.execPath, ['-e', script], { cwd: process.cwd() });
    assert.ok(existsSync(`${file}-wal`) && statSync(`${file}-wal`).size > 0, 'a WAL with frames is left behind');

    const result = await sqliteEngine.restore(config, fileSource(artifact), restoreOptions());
    assert.match(result.previous_file ?? '', /app\.db\.before-restore-\d{8}-\d{6}$/);
    assert.deepEqual(await sqliteEngine.summarize(config, { signal }), before, 'the old WAL was not applied to the new file');
    assert.equal(rowsOf(file), sum);
    assert.equal(new Database(file, { readonly: true }).pragma('integrity_check', { simple: true }), 'ok');
    assert.deepEqual(
      await sqliteEngine.summarize({ file_path: result.previous_file } as ConnectionConfig, { signal }),
      { tables: 2, rows: 101 },
      'the previous file keeps its WAL',
    );
    assert.deepEqual(
      readdirSync(folder).filter((f) => f.startsWith('.')),
      [],
      'no temp file left',
    );

    const junk = path.join(work, 'junk.sqlite');
    writeFileSync(junk, randomBytes(8192));
    await assert.rejects(sqliteEngine.restore(config, fileSource(junk), restoreOptions()), (e: Error & { code?: string }) => e.code === 'validation_error');
    assert.equal(rowsOf(file), sum, 'a bad artifact replaces nothing');
    assert.equal(readdirSync(folder).filter((f) => /before-restore-\d{8}-\d{6}$/.test(f)).length, 1, 'no second previous file');
  });

  it('restores to a path that has no file yet', async () => {
    const target = path.join(work, 'sqlite-new', 'deeper', 'copy.db');
    const result = await sqliteEngine.restore({ file_path: target } as ConnectionConfig, fileSource(path.join(work, 'app.sqlite')), restoreOptions());
    assert.equal(result.previous_file, undefined);
    assert.deepEqual(await sqliteEngine.summarize({ file_path: target } as ConnectionConfig, { signal }), { tables: 2, rows: 500 });
  });
});

const filesConfig = (source_path: string) => ({ source_path, include_patterns: [], exclude_patterns: [] }) as ConnectionConfig;

describe('files', () => {
  /** Every entry: type, mode, mtime (seconds, as tar keeps them), content hash or link target. */
  function tree(root: string, rel = ''): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of readdirSync(path.join(root, rel)).sort()) {
      const r = path.posix.join(rel, name);
      const full = path.join(root, r);
      const s = lstatSync(full);
      if (s.isSymbolicLink()) out[r] = `link ${readlinkSync(full)}`;
      else if (s.isDirectory()) {
        out[r] = `dir ${(s.mode & 0o7777).toString(8)} ${Math.floor(s.mtimeMs / 1000)}`;
        Object.assign(out, tree(root, r));
      } else out[r] = `file ${(s.mode & 0o7777).toString(8)} ${Math.floor(s.mtimeMs / 1000)} ${createHash('sha256').update(readFileSync(full)).digest('hex')}`;
    }
    return out;
  }

  it('a tree with nested folders, modes, mtimes and a symlink round-trips; existing files are not overwritten unless asked', async () => {
    const src = path.join(work, 'files-src');
    mkdirSync(path.join(src, 'docs/deep/er'), { recursive: true });
    writeFileSync(path.join(src, 'docs/a.txt'), 'hello');
    writeFileSync(path.join(src, 'docs/deep/er/b.bin'), randomBytes(300_000));
    writeFileSync(path.join(src, 'run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
    writeFileSync(path.join(src, 'private'), 'secret', { mode: 0o600 });
    writeFileSync(path.join(src, 'empty'), '');
    symlinkSync('docs/a.txt', path.join(src, 'link-to-a'));
    mkdirSync(path.join(src, 'readonly'), { mode: 0o555 });
    const old = new Date('2020-02-03T04:05:06Z');
    utimesSync(path.join(src, 'docs/a.txt'), old, old);
    utimesSync(path.join(src, 'docs/deep'), old, old);
    const { file, result: dumped } = await dumpTo(filesEngine, filesConfig(src), 'files.tar');

    const target = path.join(work, 'files-target', 'not-yet');
    const restored = await filesEngine.restore(filesConfig(target), fileSource(file), restoreOptions());
    assert.deepEqual(tree(target), tree(src));
    assert.equal(restored.files_count, dumped.files_count);
    assert.deepEqual(await filesEngine.summarize(filesConfig(target), { signal }), { tables: 0, rows: 5 });
    assert.deepEqual(await filesEngine.summarize(filesConfig(src), { signal }), { tables: 0, rows: 5 });

    writeFileSync(path.join(target, 'docs/a.txt'), 'changed');
    writeFileSync(path.join(target, 'added-later'), 'mine');
    await assert.rejects(filesEngine.restore(filesConfig(target), fileSource(file), restoreOptions()), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'conflict');
      assert.match(e.message, /^docs\/a\.txt already exists/);
      return true;
    });
    assert.equal(readFileSync(path.join(target, 'docs/a.txt'), 'utf8'), 'changed', 'a refused restore writes nothing');

    await filesEngine.restore(filesConfig(target), fileSource(file), restoreOptions({ overwrite: true }));
    const { 'added-later': added, ...rest } = tree(target);
    assert.deepEqual(rest, tree(src));
    assert.match(added!, /^file/, 'files the backup does not hold are left alone');
  });

  /** A tar built by hand, as an attacker (or a damaged tool) would write it. */
  async function handTar(entries: { name: string; type?: 'file' | 'symlink' | 'directory'; linkname?: string }[]): Promise<string> {
    const pack = tar.pack();
    const file = path.join(work, `hand-${randomBytes(4).toString('hex')}.tar`);
    const written = pipeline(pack, createWriteStream(file));
    for (const e of entries) {
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error | null) => (err ? reject(err) : resolve());
        if (e.type === 'symlink' || e.type === 'directory') pack.entry({ name: e.name, type: e.type, linkname: e.linkname }, done);
        else pack.entry({ name: e.name }, 'payload', done);
      });
    }
    pack.finalize();
    await written;
    return file;
  }

  const absolute = `/tmp/dg-absolute-${randomBytes(4).toString('hex')}`;
  const cases: [string, Parameters<typeof handTar>[0], string][] = [
    ['../escape', [{ name: 'fine.txt' }, { name: 'sub/', type: 'directory' }, { name: '../escape' }], '../escape'],
    ['a .. in the middle that climbs out', [{ name: 'fine.txt' }, { name: 'sub/../../escape' }], 'sub/../../escape'],
    ['an absolute path', [{ name: 'fine.txt' }, { name: `${absolute}/x` }], `${absolute}/x`],
    ['a symlink out of the target', [{ name: 'fine.txt' }, { name: 'link', type: 'symlink', linkname: '../../etc' }], 'link'],
    ['an absolute symlink', [{ name: 'fine.txt' }, { name: 'link', type: 'symlink', linkname: '/etc' }], 'link'],
    [
      'a symlink that escapes through another symlink',
      [
        { name: 'a/b/c', type: 'symlink', linkname: '.' },
        { name: 'a/b/c/x', type: 'symlink', linkname: '../../..' },
      ],
      'a/b/c/x',
    ],
    ['a loop of symlinks', [{ name: 'a', type: 'symlink', linkname: 'b' }, { name: 'b', type: 'symlink', linkname: 'a' }, { name: 'a/x' }], 'a/x'],
    [
      'a symlink made to escape by a later one',
      [
        { name: 'l', type: 'symlink', linkname: 'a/b/../../..' },
        { name: 'a/b', type: 'symlink', linkname: '.' },
      ],
      'l',
    ],
  ];
  for (const [what, entries, named] of cases) {
    it(`an entry with ${what} is refused and nothing is written`, async () => {
      const parent = path.join(work, `hostile-${randomBytes(4).toString('hex')}`);
      mkdirSync(parent);
      const target = path.join(parent, 'target');
      const archive = await handTar(entries);
      await assert.rejects(
        filesEngine.restore(filesConfig(target), fileSource(archive), restoreOptions({ overwrite: true })),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'validation_error');
          assert.ok(e.message.includes(`“${named}”`), e.message);
          return true;
        },
      );
      assert.equal(existsSync(target), false, 'not even the target folder was created');
      assert.deepEqual(readdirSync(parent), [], 'nothing beside it');
      assert.equal(existsSync(absolute), false);
    });
  }

  it('a symlink already in the target folder that leads outside is not written through', async () => {
    const parent = path.join(work, 'hostile-existing');
    const target = path.join(parent, 'target');
    mkdirSync(target, { recursive: true });
    mkdirSync(path.join(parent, 'outside'));
    symlinkSync('../outside', path.join(target, 'out'));
    const archive = await handTar([{ name: 'out/planted' }]);
    await assert.rejects(
      filesEngine.restore(filesConfig(target), fileSource(archive), restoreOptions({ overwrite: true })),
      /Refused: the backup's entry “out\/planted”/,
    );
    assert.deepEqual(readdirSync(path.join(parent, 'outside')), []);
  });

  it('symlinks and folders that stay inside are fine', async () => {
    const target = path.join(work, 'inside-links');
    const archive = await handTar([
      { name: 'real/', type: 'directory' },
      { name: 'real/f' },
      { name: 'via', type: 'symlink', linkname: 'real' },
      { name: 'via/g' },
      { name: 'real/up', type: 'symlink', linkname: '../real/./f' },
      { name: './', type: 'directory' },
    ]);
    const result = await filesEngine.restore(filesConfig(target), fileSource(archive), restoreOptions());
    assert.equal(result.files_count, 4);
    assert.equal(readFileSync(path.join(target, 'real/g'), 'utf8'), 'payload');
    assert.equal(readFileSync(path.join(target, 'real/up'), 'utf8'), 'payload');
  });
});

describe('restore tools', () => {
  it('abort kills the tool', async () => {
    const abort = new AbortController();
    const started = Date.now();
    const running = runTool('/bin/sleep', ['30'], { signal: abort.signal });
    setTimeout(() => abort.abort(), 100);
    await assert.rejects(running, /sleep failed: stopped/);
    assert.ok(Date.now() - started < 5000);
  });

  it('a restore that is aborted before it starts runs nothing', async () => {
    const abort = new AbortController();
    abort.abort();
    const target = path.join(work, 'never');
    await assert.rejects(filesEngine.restore(filesConfig(target), fileSource(path.join(work, 'files.tar')), restoreOptions({ signal: abort.signal })));
    assert.equal(existsSync(target), false);
  });
});
