// What DataGuardian's client tools may and may not be made to do: no option injection through names, no
// shell from a restored file, a private temp folder, a clean environment, TLS as the datasource asks.
// Real PostgreSQL and MariaDB on loopback; engines driven directly, and the whole app where it matters.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { testConnection } from '../../electron/core/engines/index.js';
import { findClientCommand } from '../../electron/core/engines/mysql/commands.js';
import { mysqlEngine } from '../../electron/core/engines/mysql/index.js';
import { spawnDump } from '../../electron/core/engines/process.js';
import { postgresEngine } from '../../electron/core/engines/postgres/index.js';
import { restoreGrants, sqlOnly } from '../../electron/core/engines/postgres/restore.js';
import type { BackupEngine, EngineOptions, RestoreOptions } from '../../electron/core/engines/types.js';
import { PrivateTemp } from '../../electron/core/kernel/temp.js';
import { CONNECTION_CONFIG, type ConnectionConfig } from '../../shared/schemas/datasource.js';
import { removeTempDir, startMariadb, startPostgres, tempDir } from '../harness/index.js';
import { osUser } from '../harness/os-user.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';
import { runJob, waitForExecution } from '../support/backups.js';
import { fileSource } from '../../electron/core/engines/source.js';

let pg: Awaited<ReturnType<typeof startPostgres>>;
let maria: Awaited<ReturnType<typeof startMariadb>>;
let work: string;
let secrets: string;

const signal = new AbortController().signal;
const messages: string[] = [];
const log = (level: string, message: string) => void messages.push(`${level}: ${message}`);
const EVIL = '--host=evil.example';

const dumpOptions = (o: Partial<EngineOptions> = {}): EngineOptions => ({
  includeTables: [],
  excludeTables: [],
  parallelJobs: 1,
  compressedByPipeline: true,
  toolDirs: { postgres: pg.binDir },
  tempDir: secrets,
  signal,
  log,
  ...o,
});
const restoreOptions = (o: Partial<RestoreOptions> = {}): RestoreOptions => ({
  parallelJobs: 1,
  toolDirs: { postgres: pg.binDir },
  tempDir: secrets,
  signal,
  log,
  createDatabase: false,
  overwrite: false,
  source: {},
  ...o,
});

async function dumpTo(engine: BackupEngine, config: ConnectionConfig, name: string, o: Partial<EngineOptions> = {}) {
  const file = path.join(work, name);
  const dump = await engine.dump(config, dumpOptions(o));
  await pipeline(dump.stream, createWriteStream(file));
  await dump.finished;
  return file;
}

/** A pid that is certainly not running: a process that already ended. */
const deadPid = () => spawnSync('true').pid!;

before(async () => {
  work = await tempDir('dg-security-tools-');
  secrets = path.join(work, 'private');
  mkdirSync(secrets, { mode: 0o700 });
  [pg, maria] = await Promise.all([startPostgres(), startMariadb()]);
});

after(async () => {
  await Promise.all([pg?.stop(), maria?.stop()]);
  if (work) await removeTempDir(work);
});

describe('no option injection', () => {
  const config = (database: string) =>
    CONNECTION_CONFIG.mariadb.parse({ host: maria.host, port: maria.port, database, username: maria.user, password: maria.password });
  const rows = async (db: string) => maria.query<{ id: number; note: string }>(`SELECT id, note FROM \`${EVIL}\` ORDER BY id`, db);

  it('a MariaDB table named --host=evil.example is dumped and restored as a table, whole and through an include filter', async () => {
    await maria.createDatabase('inject');
    await maria.query(`CREATE TABLE \`${EVIL}\` (id INT PRIMARY KEY, note VARCHAR(50))`, 'inject');
    await maria.query(`INSERT INTO \`${EVIL}\` VALUES (1, 'one'), (2, 'two'), (3, 'três')`, 'inject');
    await maria.query('CREATE TABLE plain (id INT PRIMARY KEY)', 'inject');
    await maria.query('INSERT INTO plain VALUES (1)', 'inject');
    const original = await rows('inject');

    const whole = await dumpTo(mysqlEngine, config('inject'), 'inject.sql');
    await mysqlEngine.restore(config('inject_copy'), fileSource(whole), restoreOptions({ createDatabase: true }));
    assert.deepEqual(await rows('inject_copy'), original);
    assert.deepEqual(await mysqlEngine.summarize(config('inject_copy'), { signal }), { tables: 2, rows: 4 });

    // Table filters reach mysqldump as positional names: after `--`, this one is a name, not --host.
    const filtered = await dumpTo(mysqlEngine, config('inject'), 'inject-filtered.sql', { includeTables: [EVIL] });
    assert.doesNotMatch(readFileSync(filtered, 'utf8'), /CREATE TABLE `plain`/);
    await mysqlEngine.restore(config('inject_filtered'), fileSource(filtered), restoreOptions({ createDatabase: true }));
    assert.deepEqual(await rows('inject_filtered'), original);
    assert.deepEqual(await mysqlEngine.summarize(config('inject_filtered'), { signal }), { tables: 1, rows: 3 });
    assert.deepEqual(readdirSync(secrets), [], 'the credential files are removed');
  });

  it('a MariaDB database named like an option is a database name for mariadb-dump and mariadb', async () => {
    const name = '--one-database';
    await maria.createDatabase(name);
    await maria.query('CREATE TABLE t (id INT PRIMARY KEY)', name);
    await maria.query('INSERT INTO t VALUES (7)', name);
    const file = await dumpTo(mysqlEngine, config(name), 'dash-db.sql');
    await mysqlEngine.restore(config('--dash_copy'), fileSource(file), restoreOptions({ createDatabase: true }));
    assert.deepEqual(await maria.query('SELECT id FROM t', '--dash_copy'), [{ id: 7 }]);
  });

  it('a PostgreSQL database whose name reads as a connection string is one name to pg_dump', async () => {
    const c = CONNECTION_CONFIG.postgres.parse({
      host: pg.host,
      port: pg.port,
      database: 'x host=evil.example',
      username: pg.user,
      password: pg.password,
    });
    await pg.createDatabase('x host=evil.example');
    await pg.query('CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2)', 'x host=evil.example');
    const file = await dumpTo(postgresEngine, c, 'conninfo.pgdump');
    await postgresEngine.restore({ ...c, database: '-d evil' }, fileSource(file), restoreOptions({ createDatabase: true }));
    assert.deepEqual(await postgresEngine.summarize({ ...c, database: '-d evil' }, { signal }), { tables: 1, rows: 2 });
  });
});

describe('restoring a file from elsewhere runs no command', () => {
  const config = (database: string) =>
    CONNECTION_CONFIG.mariadb.parse({ host: maria.host, port: maria.port, database, username: maria.user, password: maria.password });

  function hostileDump(marker: string) {
    const file = path.join(work, `hostile-${path.basename(marker)}.sql`);
    writeFileSync(
      file,
      [
        'CREATE TABLE visits (id INT PRIMARY KEY, note VARCHAR(50));',
        "INSERT INTO visits VALUES (1, 'a \\\\! not a command'), (2, 'b');",
        `\\! touch ${marker}`,
        `system touch ${marker}`,
        'INSERT INTO visits VALUES (3, "c");',
        '',
      ].join('\n'),
    );
    return file;
  }

  it('the MariaDB client runs in sandbox mode: a dump with \\! is refused by the client, the file is never created', async () => {
    const marker = path.join(work, 'pwned-sandbox');
    await assert.rejects(mysqlEngine.restore(config('hostile'), fileSource(hostileDump(marker)), restoreOptions({ createDatabase: true })), /sandbox/i);
    assert.equal(existsSync(marker), false, 'the shell command never ran');
    assert.deepEqual(readdirSync(secrets), []);
  });

  it('with a client that has no --sandbox, a dump holding client commands is refused before the client runs', async () => {
    // The real client, except that its help lists no --sandbox (as before MariaDB 10.11.8).
    const bin = path.join(work, 'old-client');
    mkdirSync(bin);
    writeFileSync(
      path.join(bin, 'mariadb'),
      '#!/bin/sh\nfor a; do [ "$a" = --help ] && { echo "mariadb: an old client"; exit 0; }; [ "$a" = --sandbox ] && exit 9; done\nexec /usr/bin/mariadb "$@"\n',
      { mode: 0o755 },
    );
    const marker = path.join(work, 'pwned-old');
    const file = hostileDump(marker);
    assert.deepEqual(await findClientCommand(file), { line: 3, text: `\\! touch ${marker}` });
    await assert.rejects(
      mysqlEngine.restore(config('hostile_old'), fileSource(file), restoreOptions({ createDatabase: true, toolDirs: { postgres: pg.binDir, mysql: bin } })),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'damaged');
        assert.match(e.message, /client command at line 3 .*not restored.*--sandbox/);
        return true;
      },
    );
    assert.equal(existsSync(marker), false);
    assert.deepEqual(await maria.query("SHOW TABLES FROM `hostile_old` LIKE 'visits'"), [], 'nothing was run');

    // A plain dump made by mariadb-dump passes the check and restores through that client.
    const plain = await dumpTo(mysqlEngine, config('inject'), 'plain-for-old.sql');
    assert.equal(await findClientCommand(plain), null);
    await mysqlEngine.restore(
      config('old_client_copy'),
      fileSource(plain),
      restoreOptions({ createDatabase: true, toolDirs: { postgres: pg.binDir, mysql: bin } }),
    );
    assert.deepEqual(await mysqlEngine.summarize(config('old_client_copy'), { signal }), { tables: 2, rows: 4 });
  });

  it('the client-command scanner reads strings and comments as the client does', async () => {
    const scan = async (sql: string) => {
      const f = path.join(work, 'scan.sql');
      writeFileSync(f, sql);
      return (await findClientCommand(f))?.line ?? null;
    };
    assert.equal(await scan("INSERT INTO t VALUES ('\\\\! x', 'it\\'s \\\\. y');\n-- \\! in a comment\n/* \\! too */\n"), null);
    assert.equal(await scan('SELECT 1; \\! id\n'), 1);
    assert.equal(await scan('/*!40101 SET x=1 */;\n/*!40101 \\. /etc/passwd */;\n'), 2);
    assert.equal(await scan('SELECT 1;\n  SOURCE /tmp/x.sql\n'), 2);
    assert.equal(await scan('SELECT 1;\n\\r db evil.example\n'), 2);
    assert.equal(await scan("INSERT INTO t VALUES ('multi\nsystem line');\n"), null);
  });

  it('psql restores the grants without a meta-command: a \\! line in the grants is dropped and reported, the grant runs', async () => {
    await pg.createDatabase('grants');
    await pg.query('CREATE TABLE orders (id int); CREATE ROLE auditor;', 'grants');
    const c = CONNECTION_CONFIG.postgres.parse({ host: pg.host, port: pg.port, database: 'grants', username: pg.user, password: pg.password });
    const marker = path.join(work, 'pwned-psql');
    const sql = [
      '\\restrict abc123',
      'GRANT SELECT ON TABLE public.orders TO auditor;',
      `\\! touch ${marker}`,
      `GRANT INSERT ON TABLE public.orders TO auditor; \\! touch ${marker}`,
      `COMMENT ON TABLE public.orders IS 'backslash \\! inside a string';`,
      '\\unrestrict abc123',
      '',
    ].join('\n');
    messages.length = 0;
    await restoreGrants(c, 15, sql, restoreOptions());
    assert.equal(existsSync(marker), false, 'psql ran no shell');
    const [r] = await pg.query<{ sel: boolean; ins: boolean; note: string }>(
      "SELECT has_table_privilege('auditor', 'orders', 'SELECT') AS sel, has_table_privilege('auditor', 'orders', 'INSERT') AS ins, obj_description('orders'::regclass) AS note",
      'grants',
    );
    assert.deepEqual(r, { sel: true, ins: false, note: 'backslash \\! inside a string' });
    assert.ok(
      messages.some((m) => /^warn: 2 line\(s\) of the backup's grants were psql commands/.test(m)),
      messages.join('\n'),
    );
    assert.deepEqual(readdirSync(secrets), []);

    assert.deepEqual(sqlOnly("SELECT $x$ \\! $x$;\nSELECT E'\\'' || '\\';\n/* \\! */ SELECT 1;").dropped, []);
    assert.deepEqual(sqlOnly("SELECT E'\\'';\n\\o /tmp/out").dropped, ['\\o /tmp/out']);
  });
});

describe('the private temp folder', () => {
  it('is made 0700 under the data folder, or inside the folder Settings name, and refuses a folder others control', async () => {
    const dataDir = mkdtempSync(path.join(work, 'data-'));
    const temp = await PrivateTemp.open(dataDir, null);
    try {
      const dir = await temp.dir(null);
      assert.equal(path.dirname(dir), path.join(dataDir, 'tmp'));
      assert.match(path.basename(dir), new RegExp(`^dataguardian-${process.pid}-`));
      const s = statSync(dir);
      assert.equal(s.mode & 0o777, 0o700);
      assert.equal(s.uid, process.getuid!());
      assert.equal(await temp.dir(null), dir, 'one folder per process');
      // The old default in saved settings means "not set".
      assert.equal(await temp.dir('/tmp/dataguardian'), dir);

      const big = path.join(work, 'big-disk');
      const inBig = await temp.dir(big);
      assert.equal(path.dirname(inBig), big);
      assert.equal(statSync(inBig).mode & 0o777, 0o700);

      // Another user made it writable for everyone: refused, not used.
      chmodSync(dir, 0o755);
      await assert.rejects(temp.dir(null), /can be opened by other users/);
      chmodSync(dir, 0o700);

      const open = path.join(work, 'open-to-all');
      mkdirSync(open);
      chmodSync(open, 0o777);
      await assert.rejects(temp.dir(open), (e: Error & { code?: string }) => e.code === 'validation_error' && /no sticky bit/.test(e.message));
      const theirs = path.join(work, 'theirs');
      mkdirSync(theirs);
      const nobody = osUser('nobody');
      chownSync(theirs, nobody.uid, nobody.gid);
      await assert.rejects(temp.dir(theirs), /belongs to another user/);
      // /tmp itself is fine: world-writable, but sticky.
      const inTmp = await temp.dir('/tmp');
      assert.equal(path.dirname(inTmp), '/tmp');
    } finally {
      await temp.close();
    }
    assert.deepEqual(readdirSync(path.join(dataDir, 'tmp')), [], 'closing removes the folder');
    rmSync(dataDir, { recursive: true, force: true });
  });
});

describe('the whole app', () => {
  let app: AppUnderTest;
  let dataDir: string;
  let fakeBin: string;
  let planted: string;
  const saved = { ...process.env };

  async function call(channel: string, input: unknown = {}) {
    const r = await app.rpc(channel, input);
    assert.ok(r.body.ok, r.text);
    return r.body.data;
  }

  before(async () => {
    dataDir = mkdtempSync('/tmp/dg-security-app-');
    chmodSync(dataDir, 0o755);
    // What a crashed earlier run left: a private folder with a credential file in it.
    planted = path.join(dataDir, 'tmp', `dataguardian-${deadPid()}-AbC123`);
    mkdirSync(planted, { recursive: true, mode: 0o700 });
    chmodSync(path.join(dataDir, 'tmp'), 0o700);
    writeFileSync(path.join(planted, '.pgpass-0123456789ab'), '127.0.0.1:5432:*:dg:hunter2\n', { mode: 0o600 });
    // The app's own secrets, as a headless install sets them.
    Object.assign(process.env, { SECRET_KEY: 'a'.repeat(64), DG_API_TOKEN: 'token-should-not-leak', DG_PASSWORD: 'pw-should-not-leak' });
    app = await startApp({ dataDir });
    process.env.DATABASE_URL = 'postgresql://should-not-leak@127.0.0.1/x';

    fakeBin = mkdtempSync(path.join(work, 'fake-bin-'));
    writeFileSync(
      path.join(fakeBin, 'pg_dump'),
      `#!/bin/sh\nif [ "$1" = --version ]; then echo "pg_dump (PostgreSQL) 99.0"; exit 0; fi\nenv > ${fakeBin}/env.txt\nprintf 'not really a dump'\n`,
      { mode: 0o755 },
    );
  });

  after(async () => {
    await app?.stop({ keepData: true });
    for (const key of ['SECRET_KEY', 'DG_API_TOKEN', 'DG_PASSWORD', 'DATABASE_URL']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('sweeps what a dead process left in the temp folder at start', () => {
    assert.equal(existsSync(planted), false, 'the leftover folder and its credential file are gone');
  });

  it('a tool sees none of the app secrets in its environment, and its credential file lives in the private folder', async () => {
    await pg.createDatabase('envcheck');
    const storageDir = path.join(work, 'env-storage');
    mkdirSync(storageDir);
    const storage = await call('storages.create', { name: 'Env', type: 'local', config: { path: storageDir } });
    const ds = await call('datasources.create', {
      name: 'envcheck',
      type: 'postgres',
      connection_config: { host: pg.host, port: pg.port, database: 'envcheck', username: pg.user, password: pg.password },
    });
    await call('settings.update', { 'tools.postgres_bin_dir': fakeBin });
    try {
      const backup = await runJob(app, { name: 'Env', datasource_id: ds.id, storage_location_ids: [storage.id], backup_options: { compression: 'none' } });
      assert.equal(backup.status, 'completed', backup.error_message);
    } finally {
      await call('settings.update', { 'tools.postgres_bin_dir': null });
    }
    const env = Object.fromEntries(
      readFileSync(path.join(fakeBin, 'env.txt'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    for (const key of ['SECRET_KEY', 'DG_API_TOKEN', 'DG_PASSWORD', 'DATABASE_URL']) assert.equal(env[key], undefined, `${key} reached the tool`);
    assert.ok(env.PATH, 'PATH is kept');
    const folder = path.dirname(env.PGPASSFILE!);
    assert.equal(path.dirname(folder), path.join(dataDir, 'tmp'));
    assert.match(path.basename(folder), new RegExp(`^dataguardian-${process.pid}-`));
    const s = statSync(folder);
    assert.equal(s.mode & 0o777, 0o700);
    assert.equal(s.uid, process.getuid!());
    assert.equal(env.PGSSLMODE, 'disable');
  });

  it('a backup and a restore with the real tools write nothing to /tmp/dataguardian', async () => {
    rmSync('/tmp/dataguardian', { recursive: true, force: true });
    await pg.createDatabase('notmp');
    await pg.query('CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 100) g', 'notmp');
    const storageDir = path.join(work, 'notmp-storage');
    mkdirSync(storageDir);
    const storage = await call('storages.create', { name: 'NoTmp', type: 'local', config: { path: storageDir } });
    const ds = await call('datasources.create', {
      name: 'notmp',
      type: 'postgres',
      connection_config: { host: pg.host, port: pg.port, database: 'notmp', username: pg.user, password: pg.password },
    });
    const backup = await runJob(app, { name: 'NoTmp', datasource_id: ds.id, storage_location_ids: [storage.id], backup_options: { compression: 'gzip' } });
    assert.equal(backup.status, 'completed', backup.error_message);
    const r = await app.http('POST', `/api/backups/${backup.id}/restore`, { target_database: 'notmp_copy' });
    assert.equal(r.status, 202, r.text);
    const restored: Json = await waitForExecution(app, r.body.execution_id);
    assert.equal(restored.status, 'completed', restored.error_message);
    assert.deepEqual(await pg.query('SELECT count(*)::int AS n FROM t', 'notmp_copy'), [{ n: 100 }]);
    assert.equal(existsSync('/tmp/dataguardian'), false);
    const [folder] = readdirSync(path.join(dataDir, 'tmp'));
    assert.deepEqual(readdirSync(path.join(dataDir, 'tmp', folder!)), [], 'credential files and staging are removed after each run');
  });
});

describe('a tool started by DataGuardian', () => {
  it('gets an allow-listed environment (process.ts, every tool goes through it)', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { SECRET_KEY: 'k', DG_PASSWORD: 'p', DG_API_TOKEN: 't', DATABASE_URL: 'postgres://x', PGPASSWORD: 'leak', MYSQL_PWD: 'leak' });
    try {
      const dump = spawnDump('/usr/bin/env', [], { env: { PGPASSFILE: '/x' }, signal });
      const out = await text(dump.stream);
      await dump.finished;
      const keys = out.split('\n').map((l) => l.split('=')[0]);
      for (const key of ['SECRET_KEY', 'DG_PASSWORD', 'DG_API_TOKEN', 'DATABASE_URL', 'PGPASSWORD', 'MYSQL_PWD']) assert.ok(!keys.includes(key), key);
      assert.ok(keys.includes('PATH') && keys.includes('PGPASSFILE'));
    } finally {
      for (const key of ['SECRET_KEY', 'DG_PASSWORD', 'DG_API_TOKEN', 'DATABASE_URL', 'PGPASSWORD', 'MYSQL_PWD']) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });
});

describe('TLS to the databases', () => {
  const pgConfig = (mode: string, extra: Record<string, unknown> = {}) =>
    CONNECTION_CONFIG.postgres.parse({
      host: pg.host,
      port: pg.port,
      database: 'postgres',
      username: pg.user,
      password: pg.password,
      ssl_mode: mode,
      ...extra,
    });

  it('reads a saved ssl_enabled as require/disable, and refuses a CA that is not PEM', () => {
    const base = { host: 'h', database: 'd', username: 'u' };
    assert.equal(CONNECTION_CONFIG.postgres.parse({ ...base, ssl_enabled: true }).ssl_mode, 'require');
    assert.equal(CONNECTION_CONFIG.mysql.parse({ ...base, ssl_enabled: false }).ssl_mode, 'disable');
    assert.equal(CONNECTION_CONFIG.mariadb.parse(base).ssl_mode, 'disable');
    assert.equal('ssl_enabled' in CONNECTION_CONFIG.postgres.parse({ ...base, ssl_enabled: true }), false);
    assert.equal(CONNECTION_CONFIG.postgres.parse({ ...base, ssl_enabled: true, ssl_mode: 'verify-full' }).ssl_mode, 'verify-full');
    assert.equal(CONNECTION_CONFIG.postgres.safeParse({ ...base, ssl_mode: 'verify-full', ssl_ca: 'not a certificate' }).success, false);
    assert.equal(CONNECTION_CONFIG.postgres.safeParse({ ...base, ssl_mode: 'sometimes' }).success, false);
  });

  it('require against a server without TLS fails with a message that says what to do; disable works', async () => {
    const refused = await testConnection('postgres', pgConfig('require'));
    assert.equal(refused.ok, false);
    assert.match(refused.message, /does not accept TLS: enable TLS on the server, or set the datasource's SSL mode to disable/);
    const maria_ = CONNECTION_CONFIG.mariadb.parse({
      host: maria.host,
      port: maria.port,
      database: 'mysql',
      username: maria.user,
      password: maria.password,
      ssl_mode: 'require',
    });
    const mariaRefused = await testConnection('mariadb', maria_);
    assert.equal(mariaRefused.ok, false);
    assert.match(mariaRefused.message, /does not accept TLS/);
    assert.equal((await testConnection('postgres', pgConfig('disable'))).ok, true);
  });

  describe('against a PostgreSQL that requires TLS (self-signed CA made with openssl)', () => {
    let tls: Awaited<ReturnType<typeof startPostgres>>;
    let ca: string;
    let otherCa: string;
    const config = (mode: string, extra: Record<string, unknown> = {}) =>
      CONNECTION_CONFIG.postgres.parse({
        host: tls.host,
        port: tls.port,
        database: 'shop',
        username: tls.user,
        password: tls.password,
        ssl_mode: mode,
        ...extra,
      });

    before(async () => {
      tls = await startPostgres();
      const dir = mkdtempSync(path.join(work, 'certs-'));
      const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
      for (const name of ['ca', 'other']) {
        ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=DG test ${name}`);
      }
      ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
      writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
      ssl(
        'x509',
        '-req',
        '-in',
        'server.csr',
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        'server.crt',
        '-days',
        '2',
        '-extfile',
        'san.ext',
      );
      ca = readFileSync(path.join(dir, 'ca.crt'), 'utf8');
      otherCa = readFileSync(path.join(dir, 'other.crt'), 'utf8');
      const postgres = osUser('postgres');
      for (const f of ['server.crt', 'server.key']) {
        writeFileSync(path.join(tls.dir, f), readFileSync(path.join(dir, f)), { mode: 0o600 });
        chownSync(path.join(tls.dir, f), postgres.uid, postgres.gid);
      }
      // TLS on, and a connection without it refused: a tool that skipped TLS would fail.
      const hba = path.join(tls.dir, 'data', 'pg_hba.conf');
      writeFileSync(hba, `hostnossl all all 0.0.0.0/0 reject\n${readFileSync(hba, 'utf8')}`);
      await tls.query(`ALTER SYSTEM SET ssl_cert_file = '${tls.dir}/server.crt'`);
      await tls.query(`ALTER SYSTEM SET ssl_key_file = '${tls.dir}/server.key'`);
      await tls.query('ALTER SYSTEM SET ssl = on');
      // The harness's own client has no TLS: the reload is the last thing it does.
      await tls.query('SELECT pg_reload_conf()');
      await new Promise((r) => setTimeout(r, 500));
      await postgresEngine.restore(
        config('require'),
        fileSource(await emptyShop()),
        restoreOptions({ createDatabase: true, toolDirs: { postgres: tls.binDir } }),
      );
    });

    /** A tiny dump to seed the TLS server through the engine itself (the harness client speaks no TLS). */
    async function emptyShop() {
      await pg.createDatabase('tls_seed');
      await pg.query('CREATE TABLE items AS SELECT g AS id FROM generate_series(1, 42) g', 'tls_seed');
      return dumpTo(postgresEngine, pgConfig('disable', { database: 'tls_seed' }), 'tls-seed.pgdump');
    }

    after(async () => {
      await tls?.stop();
    });

    it('require, verify-ca and verify-full with the CA work for the driver and for pg_dump/pg_restore', async () => {
      for (const c of [config('require'), config('verify-ca', { ssl_ca: ca }), config('verify-full', { ssl_ca: ca })]) {
        const probe = await testConnection('postgres', c);
        assert.equal(probe.ok, true, `${c.ssl_mode}: ${probe.message}`);
        assert.deepEqual(await postgresEngine.summarize(c, { signal }), { tables: 1, rows: 42 });
      }
      const file = await dumpTo(postgresEngine, config('verify-full', { ssl_ca: ca }), 'tls.pgdump', { toolDirs: { postgres: tls.binDir } });
      await postgresEngine.restore(
        config('verify-full', { ssl_ca: ca, database: 'shop_copy' }),
        fileSource(file),
        restoreOptions({ createDatabase: true, toolDirs: { postgres: tls.binDir } }),
      );
      assert.deepEqual(await postgresEngine.summarize(config('verify-full', { ssl_ca: ca, database: 'shop_copy' }), { signal }), { tables: 1, rows: 42 });
      assert.deepEqual(readdirSync(secrets), [], 'the CA and password files are removed');
    });

    it('disable is refused by this server, and a certificate from another CA fails verification with a clear message', async () => {
      assert.equal((await testConnection('postgres', config('disable'))).ok, false);
      const wrong = await testConnection('postgres', config('verify-full', { ssl_ca: otherCa }));
      assert.equal(wrong.ok, false);
      assert.match(wrong.message, /could not be verified .*paste the CA/);
      // A backup stops there too, before pg_dump starts.
      await assert.rejects(
        dumpTo(postgresEngine, config('verify-full', { ssl_ca: otherCa }), 'never.pgdump', { toolDirs: { postgres: tls.binDir } }),
        /certificate/i,
      );
    });
  });
});
