// A whole server: database names anyone with CREATE DATABASE chooses, patterns from the API, and a globals
// file from a storage anyone may write to. Names stay names (never SQL, options or paths), and a globals
// file cannot reach a client tool's own commands.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { postgresServer } from '../../electron/core/engines/postgres/server.js';
import { mysqlServer } from '../../electron/core/engines/mysql/server.js';
import { databaseStatements } from '../../electron/core/engines/postgres/server-database.js';
import type { RestoreOptions } from '../../electron/core/engines/types.js';
import { removeTempDir, startMariadb, startPostgres, tempDir, type MariaServer, type PgServer } from '../harness/index.js';
import { quotePgIdentifier } from '../harness/postgres.js';
import { startApp, type AppUnderTest } from '../support/app.js';
import { runJob } from '../support/backups.js';
import { fileSource } from '../../electron/core/engines/source.js';

/** Names that break a careless SQL string, shell line, option list or path. */
const HOSTILE_NAMES = [`x'; DROP DATABASE shop; --`, '--help', '$(touch /tmp/dg-pwned-db)', '../../etc', 'a\\b', 'ção `tick`'];

let pg: PgServer;
let maria: MariaServer;
let app: AppUnderTest;
let work: string;
const signal = new AbortController().signal;
const options = (): RestoreOptions => ({
  parallelJobs: 1,
  toolDirs: {},
  tempDir: path.join(work, 'secrets'),
  signal,
  log: () => undefined,
  createDatabase: false,
  overwrite: false,
  source: {},
});

before(async () => {
  work = await tempDir('dg-sec-servers-');
  mkdirSync(path.join(work, 'secrets'), { mode: 0o700 });
  [pg, maria, app] = await Promise.all([startPostgres(), startMariadb(), startApp()]);
  await pg.createDatabase('shop');
  for (const name of HOSTILE_NAMES) await pg.createDatabase(name);
});

after(async () => {
  await app?.stop();
  await Promise.all([pg?.stop(), maria?.stop()]);
  await removeTempDir(work);
});

describe('hostile database names and patterns', () => {
  it('are listed as they are, and nothing they say runs', async () => {
    const r = await app.rpc('datasources.databases', {
      type: 'postgres',
      connection_config: { host: pg.host, port: pg.port, username: pg.user, password: pg.password, all_databases: true, include: ['*'] },
    });
    assert.ok(r.body.ok, r.text);
    const names = r.body.data.databases.map((d: { name: string }) => d.name);
    for (const name of [...HOSTILE_NAMES, 'shop']) assert.ok(names.includes(name), name);
    assert.ok(!existsSync('/tmp/dg-pwned-db'));
  });

  it('a pattern that is empty, too long or one too many is refused at the boundary', async () => {
    const base = { host: pg.host, port: pg.port, username: pg.user, password: pg.password, all_databases: true };
    for (const bad of [{ include: [''] }, { exclude: ['x'.repeat(300)] }, { include: Array.from({ length: 201 }, (_, i) => `d${i}`) }, { include: 'shop' }]) {
      const r = await app.rpc('datasources.databases', { type: 'postgres', connection_config: { ...base, ...bad } });
      assert.equal(r.body.ok, false, JSON.stringify(bad));
      assert.equal(r.body.error.code, 'validation_error');
    }
  });
});

describe('a globals file from a storage', () => {
  const planted = (name: string, text: string) => {
    const file = path.join(work, name);
    writeFileSync(file, text);
    return file;
  };

  it('PostgreSQL: a psql command is refused before any statement runs', async () => {
    const file = planted('pg-globals.sql', `CREATE ROLE planted_first;\n\\! touch /tmp/dg-pwned-globals\nCREATE ROLE planted_after;\n`);
    await assert.rejects(postgresServer.restoreGlobals({ ...pgConfig(), database: 'postgres' }, file, options(), 'before'), /client command/);
    assert.ok(!existsSync('/tmp/dg-pwned-globals'));
    assert.equal((await pg.query(`SELECT 1 FROM pg_roles WHERE rolname LIKE 'planted%'`)).length, 0);
  });

  it("PostgreSQL: the login's own role is never altered (its password would lock the app out)", async () => {
    const file = planted('pg-own.sql', `ALTER ROLE ${quotePgIdentifier(pg.user)} WITH PASSWORD 'taken over';\nCREATE ROLE planted_ok;\n`);
    await postgresServer.restoreGlobals({ ...pgConfig(), database: 'postgres' }, file, options(), 'before');
    assert.equal((await pg.query(`SELECT 1 FROM pg_roles WHERE rolname = 'planted_ok'`)).length, 1);
    assert.equal((await pg.query('SELECT 1 AS ok')).length, 1, 'the harness still signs in with its password');
  });

  it('MariaDB: a mysql client command is refused', async () => {
    const file = planted('maria-globals.sql', `CREATE USER 'planted'@'%';\n\\! touch /tmp/dg-pwned-globals\n`);
    await assert.rejects(
      mysqlServer.restoreGlobals(
        { host: maria.host, port: maria.port, username: maria.user, password: maria.password, database: '' },
        file,
        options(),
        'before',
      ),
      /client command/,
    );
    assert.ok(!existsSync('/tmp/dg-pwned-globals'));
    assert.equal((await maria.query(`SELECT 1 FROM mysql.user WHERE User = 'planted'`)).length, 0);
  });

  it("MariaDB: the login's own account is never altered", async () => {
    const file = planted(
      'maria-own.sql',
      `CREATE USER IF NOT EXISTS \`${maria.user}\`@\`%\` IDENTIFIED BY 'taken';\nGRANT USAGE ON *.* TO \`${maria.user}\`@\`%\` IDENTIFIED BY 'taken over';\n`,
    );
    const config = { host: maria.host, port: maria.port, username: maria.user, password: maria.password, database: '' };
    await mysqlServer.restoreGlobals(config, file, options(), 'before');
    await mysqlServer.restoreGlobals(config, file, options(), 'after');
    assert.equal((await maria.query('SELECT 1 AS ok')).length, 1, 'the harness still signs in with its password');
  });
});

describe("browsing one database of a server's backup (GET /api/backups/:id/entries?database=)", () => {
  let backup: { id: string; status: string; error_message?: string };

  it('hostile names are names: each lists as the backup holds it, a name it does not hold is refused, nothing runs', async () => {
    mkdirSync(path.join(work, 'storage'));
    const storage = await app.rpc('storages.create', { name: 'Local', type: 'local', config: { path: path.join(work, 'storage') } });
    const datasource = await app.rpc('datasources.create', {
      name: 'Hostile server',
      type: 'postgres',
      connection_config: { ...pgConfig(), all_databases: true, include: ['*'] },
    });
    await pg.query('CREATE TABLE orders (id int)', 'shop');
    backup = await runJob(app, {
      name: 'Hostile server',
      datasource_id: datasource.body.data.id,
      storage_location_id: storage.body.data.id,
      backup_options: { compression: 'zstd', encryption: 'none' },
    });
    assert.equal(backup.status, 'completed', backup.error_message);
    for (const name of HOSTILE_NAMES) {
      const r = await app.http('GET', `/api/backups/${backup.id}/entries?database=${encodeURIComponent(name)}`);
      assert.equal(r.status, 200, `${name}: ${r.text}`);
      assert.deepEqual(r.body.entries, [], name);
    }
    const shop = await app.http('GET', `/api/backups/${backup.id}/entries?database=shop`);
    assert.deepEqual(
      shop.body.entries.map((e: { path: string }) => e.path),
      ['public.orders'],
    );
    for (const bad of ['shop ', '../shop', 'x'.repeat(256), '']) {
      const r = await app.http('GET', `/api/backups/${backup.id}/entries?database=${encodeURIComponent(bad)}`);
      assert.equal(r.status, 400, `${JSON.stringify(bad)}: ${r.text}`);
    }
    assert.ok(!existsSync('/tmp/dg-pwned-db'));
  });

  it('chosen tables of one database: with several databases, the globals, a database it does not hold or a NUL in a name, 400 and nothing queued', async () => {
    const restores = async () => Number((await app.core.db.query(`SELECT count(*)::int AS n FROM backup_executions WHERE operation = 'restore'`))[0].n);
    const queued = await restores();
    for (const [body, field] of [
      [{ databases: ['shop'], tables: ['public.orders'] }, 'databases'],
      [{ databases: 'all', tables: ['public.orders'] }, 'databases'],
      [{ database: 'shop', globals: true, tables: ['public.orders'] }, 'globals'],
      [{ database: `x'; DROP DATABASE shop; --x`, tables: ['public.orders'] }, 'database'],
      [{ database: '../shop', tables: ['public.orders'] }, 'database'],
      [{ database: 'shop', tables: ['public.orders\u0000; DROP TABLE orders'] }, 'tables.0'],
      [{ database: 'shop', tables: ['public.orders\n1; 0 0 TABLE public x'] }, 'tables.0'],
      [{ tables: ['public.orders'] }, 'database'],
    ] as const) {
      const r = await app.http('POST', `/api/backups/${backup.id}/restore`, body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      assert.equal(r.body.error.issues[0].path, field, r.text);
    }
    assert.equal(await restores(), queued, 'nothing was queued');
    assert.equal((await pg.query(`SELECT 1 FROM pg_database WHERE datname = 'shop'`)).length, 1);
    assert.equal((await pg.query(`SELECT 1 FROM pg_class WHERE relname = 'orders'`, 'shop')).length, 1);
  });
});

describe("a database's own entries of a pg_dump archive (owner, settings, grants on it)", () => {
  it('only the shapes pg_dump writes, naming that database, are run; each is renamed to the target', () => {
    const sql = [
      `CREATE DATABASE shop WITH TEMPLATE = template0 ENCODING = 'UTF8';`,
      `ALTER DATABASE shop OWNER TO sales;`,
      `ALTER DATABASE shop SET search_path TO 'a;b';`,
      `GRANT CONNECT ON DATABASE shop TO sales;`,
      `COMMENT ON DATABASE shop IS 'x''; DROP DATABASE postgres; --';`,
      `ALTER DATABASE postgres OWNER TO sales;`,
      `GRANT ALL ON DATABASE "other" TO sales;`,
      `DROP DATABASE postgres;`,
      `ALTER ROLE dg WITH PASSWORD 'taken';`,
      `\\! touch /tmp/dg-pwned-database`,
      `COMMENT ON DATABASE shop IS 'a'; DROP TABLE x;`,
      `SET client_encoding = 'UTF8';`,
    ].join('\n');
    const target = `x'; DROP DATABASE shop; --`;
    const q = quotePgIdentifier(target);
    const got = databaseStatements(sql, 'shop', target);
    assert.equal(got.create, `CREATE DATABASE ${q} WITH TEMPLATE = template0 ENCODING = 'UTF8'`);
    assert.deepEqual(got.after, [
      `ALTER DATABASE ${q} OWNER TO sales`,
      `ALTER DATABASE ${q} SET search_path TO 'a;b'`,
      `GRANT CONNECT ON DATABASE ${q} TO sales`,
      `COMMENT ON DATABASE ${q} IS 'x''; DROP DATABASE postgres; --'`,
      `COMMENT ON DATABASE ${q} IS 'a'`,
    ]);
    assert.equal(got.refused.length, 6, got.refused.join(' | '));
    assert.ok(got.refused.some((r) => r.includes('touch')));
  });

  it('a real archive of a hostile name recreates under another hostile name, its owner and grants carried, nothing else touched', async () => {
    const source = HOSTILE_NAMES[0]!;
    await pg.query(`CREATE ROLE planted_owner; CREATE ROLE planted_reader; ALTER DATABASE ${quotePgIdentifier(source)} OWNER TO planted_owner;
      GRANT CREATE ON DATABASE ${quotePgIdentifier(source)} TO planted_reader`);
    const archive = path.join(work, 'hostile.dump');
    execFileSync(path.join(pg.binDir, 'pg_dump'), ['-Fc', `--file=${archive}`, `--dbname=${source}`], {
      env: { PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: pg.user, PGPASSWORD: pg.password },
    });
    const target = HOSTILE_NAMES[2]! + ' copy';
    const said: string[] = [];
    const recreated = await postgresServer.recreateDatabase!({ ...pgConfig(), database: target }, fileSource(archive), source, {
      ...options(),
      toolDirs: { postgres: pg.binDir },
      log: (_level, m) => said.push(m),
    });
    assert.ok(recreated);
    await recreated.finish();
    const [db] = await pg.query<{ owner: string; acl: string }>(
      `SELECT pg_get_userbyid(datdba) AS owner, datacl::text AS acl FROM pg_database WHERE datname = $1`,
      undefined,
      [target],
    );
    assert.equal(db!.owner, 'planted_owner', said.join('\n'));
    assert.match(db!.acl, /planted_reader=C\//);
    assert.equal((await pg.query(`SELECT 1 FROM pg_database WHERE datname = 'shop'`)).length, 1);
    assert.ok(!existsSync('/tmp/dg-pwned-db'));
    // A name taken is refused, never restored over.
    await assert.rejects(
      postgresServer.recreateDatabase!({ ...pgConfig(), database: target }, fileSource(archive), source, { ...options(), toolDirs: { postgres: pg.binDir } }),
      /already exists/,
    );
  });
});

const pgConfig = () => ({ host: pg.host, port: pg.port, username: pg.user, password: pg.password, database: 'postgres' });
