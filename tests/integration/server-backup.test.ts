// "Every database on this server": discovery, one artifact per database plus the globals, partial runs,
// and restores of one, several or all databases, on real PostgreSQL and MariaDB servers.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { MariaServer, PgServer } from '../harness/index.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';
import { mariaServerWithDatabases, pgServerWithDatabases, READER } from '../support/servers.js';

let app: AppUnderTest;
let pg: PgServer;
let maria: MariaServer;
let work: string;

async function call(channel: string, input: unknown = {}) {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, r.text);
  return r.body.data;
}

const pgServer = (extra: Record<string, unknown> = {}) => ({
  host: pg.host,
  port: pg.port,
  username: pg.user,
  password: pg.password,
  all_databases: true,
  ...extra,
});

before(async () => {
  work = mkdtempSync('/tmp/dg-servers-');
  chmodSync(work, 0o755);
  [pg, maria, app] = await Promise.all([pgServerWithDatabases(), mariaServerWithDatabases(), startApp()]);
});

after(async () => {
  await app?.stop();
  await Promise.all([pg?.stop(), maria?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

const reasons = (answer: Json) => Object.fromEntries(answer.databases.map((d: Json) => [d.name, d.reason]));

describe('discovery: which databases the server has and the patterns pick', () => {
  it('lists a PostgreSQL server for the form, system databases left out, a glob excluding one', async () => {
    const answer = await call('datasources.databases', { type: 'postgres', connection_config: pgServer({ exclude: ['*_tmp'] }) });
    assert.deepEqual(reasons(answer), {
      [`it's a "db"`]: 'picked',
      postgres: 'picked',
      scratch_tmp: 'excluded',
      shop: 'picked',
      template0: 'system',
      template1: 'system',
      'Vendas 2026 ção': 'picked',
    });
    assert.equal(answer.picked, 4);
    assert.ok(answer.databases.find((d: Json) => d.name === 'shop').size_bytes > 0);
  });

  it('answers for a saved datasource, by its id, and over the REST route', async () => {
    const saved = await call('datasources.create', { name: 'PG server', type: 'postgres', connection_config: pgServer({ include: ['shop', 'V*'] }) });
    assert.equal(saved.connection_config.all_databases, true);
    assert.equal(saved.connection_config.database, 'postgres');
    const answer = await app.http('POST', '/api/datasources/databases', { id: saved.id });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.body.picked, 2);
    assert.equal(reasons(answer.body).postgres, 'not_included');
  });

  it('a login without CONNECT on a database still lists it, its size unknown', async () => {
    await pg.query(`REVOKE CONNECT ON DATABASE scratch_tmp FROM PUBLIC`);
    try {
      const answer = await call('datasources.databases', {
        type: 'postgres',
        connection_config: pgServer({ username: READER.user, password: READER.password }),
      });
      const scratch = answer.databases.find((d: Json) => d.name === 'scratch_tmp');
      assert.equal(scratch.size_bytes, null);
      assert.equal(scratch.reason, 'picked');
    } finally {
      await pg.query(`GRANT CONNECT ON DATABASE scratch_tmp TO PUBLIC`);
    }
  });

  it('lists a MariaDB server, its catalogs left out', async () => {
    const answer = await call('datasources.databases', {
      type: 'mariadb',
      connection_config: { host: maria.host, port: maria.port, username: maria.user, password: maria.password, all_databases: true, exclude: ['logs_*'] },
    });
    const r = reasons(answer);
    assert.equal(r.crm, 'picked');
    assert.equal(r['Vendas 2026 ção'], 'picked');
    assert.equal(r.logs_tmp, 'excluded');
    assert.equal(r.mysql, 'system');
    assert.equal(r.information_schema, 'system');
    assert.equal(answer.picked, 2);
  });

  it('refuses a type that has no server', async () => {
    const r = await app.rpc('datasources.databases', { type: 'sqlite', connection_config: { file_path: '/tmp/x.db' } });
    assert.equal(r.body.ok, false);
    assert.equal(r.body.error.code, 'unsupported');
  });
});
