// A whole server: database names anyone with CREATE DATABASE chooses, patterns from the API, and a globals
// file from a storage anyone may write to. Names stay names (never SQL, options or paths), and a globals
// file cannot reach a client tool's own commands.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { postgresServer } from '../../electron/core/engines/postgres/server.js';
import { mysqlServer } from '../../electron/core/engines/mysql/server.js';
import type { RestoreOptions } from '../../electron/core/engines/types.js';
import { removeTempDir, startMariadb, startPostgres, tempDir, type MariaServer, type PgServer } from '../harness/index.js';
import { quotePgIdentifier } from '../harness/postgres.js';
import { startApp, type AppUnderTest } from '../support/app.js';

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

const pgConfig = () => ({ host: pg.host, port: pg.port, username: pg.user, password: pg.password, database: 'postgres' });
