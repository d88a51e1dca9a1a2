// The README's "restore by hand" block for a whole server, run as written through bash on real encrypted
// backups of every compression: the globals into a fresh cluster made with initdb, then one database.
// Only the standard tools run (age, zstd, gzip, lz4, psql, createdb, pg_restore).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startPostgres, type PgServer } from '../harness/index.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';
import { runJob, sh } from '../support/backups.js';
import { pgServerWithDatabases } from '../support/servers.js';

const README = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
const COMPRESSIONS = ['zstd', 'gzip', 'lz4', 'none'] as const;

/** The block under `<!-- restore-by-hand: server -->`, with only the lines for `compression` among the alternatives. */
function block(compression: string): string {
  const found = /<!-- restore-by-hand: server -->\n```sh\n([\s\S]*?)\n```/.exec(README);
  assert.ok(found, 'README has no restore-by-hand block "server"');
  return found[1]!
    .split('\n')
    .filter((l) => {
      const alternative = /#\s*(zstd|gzip|lz4|none)\s*$/.exec(l);
      return !alternative || alternative[1] === compression;
    })
    .join('\n');
}

let app: AppUnderTest;
let pg: PgServer;
let work: string;
let storage: Json;
let datasource: Json;
let recoveryKey: string;

async function call(channel: string, input: unknown = {}) {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, r.text);
  return r.body.data;
}

before(async () => {
  work = mkdtempSync('/tmp/dg-server-by-hand-');
  chmodSync(work, 0o755);
  [pg, app] = await Promise.all([pgServerWithDatabases(), startApp()]);
  mkdirSync(path.join(work, 'storage'));
  storage = await call('storages.create', { name: 'Local', type: 'local', config: { path: path.join(work, 'storage') } });
  recoveryKey = (await call('encryption.setup')).recovery_identity;
  datasource = await call('datasources.create', {
    name: 'Server',
    type: 'postgres',
    connection_config: { host: pg.host, port: pg.port, username: pg.user, password: pg.password, all_databases: true, include: ['shop'] },
  });
});

after(async () => {
  await app?.stop();
  await pg?.stop();
  rmSync(work, { recursive: true, force: true });
});

const rolesOf = async (server: PgServer) =>
  (
    await server.query<{ r: string }>(
      `SELECT r.rolname || ':' || r.rolcanlogin || ':' || coalesce(string_agg(m.rolname, ',' ORDER BY m.rolname), '') AS r
         FROM pg_roles r LEFT JOIN pg_auth_members am ON am.member = r.oid LEFT JOIN pg_roles m ON m.oid = am.roleid
        WHERE r.rolname NOT LIKE 'pg\\_%' GROUP BY r.rolname, r.rolcanlogin ORDER BY 1`,
    )
  ).map((row) => row.r);

describe("the README restores a whole server's globals and one database by hand", () => {
  for (const compression of COMPRESSIONS) {
    it(compression, async () => {
      const backup = await runJob(app, {
        name: `Server ${compression}`,
        datasource_id: datasource.id,
        storage_location_id: storage.id,
        backup_options: { compression, max_file_size_mb: 1, encryption: 'age' },
      });
      assert.equal(backup.status, 'completed', backup.error_message);
      const dir = path.join(work, `hand-${compression}`);
      cpSync(path.join(work, 'storage', backup.backup_path), dir, { recursive: true });
      writeFileSync(path.join(dir, 'dataguardian-recovery-key.txt'), `${recoveryKey}\n`, { mode: 0o600 });
      const fresh = await startPostgres();
      try {
        // The globals carry the source's password for its superuser: the fresh cluster's is set to match first.
        await fresh.query(`ALTER ROLE ${pg.user} PASSWORD '${pg.password}'`);
        execFileSync('bash', ['-e', '-o', 'pipefail', '-c', block(compression)], {
          cwd: dir,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            PATH: `${pg.binDir}:${process.env.PATH}`,
            PGHOST: fresh.host,
            PGPORT: String(fresh.port),
            PGUSER: pg.user,
            PGPASSWORD: pg.password,
          },
        });
        const check = (sql: string, db = 'postgres') =>
          sh(`psql -X -At -d ${JSON.stringify(db)} -c ${JSON.stringify(sql)}`, {
            PATH: `${pg.binDir}:${process.env.PATH}`,
            PGHOST: fresh.host,
            PGPORT: String(fresh.port),
            PGUSER: pg.user,
            PGPASSWORD: pg.password,
          });
        const itemsSum = `SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM items t`;
        assert.equal(
          check(itemsSum, 'shop'),
          sh(`psql -X -At -d shop -c ${JSON.stringify(itemsSum)}`, {
            PATH: `${pg.binDir}:${process.env.PATH}`,
            PGHOST: pg.host,
            PGPORT: String(pg.port),
            PGUSER: pg.user,
            PGPASSWORD: pg.password,
          }),
        );
        const sourceRoles = await rolesOf(pg);
        const restoredRoles = check(
          `SELECT r.rolname || ':' || r.rolcanlogin || ':' || coalesce(string_agg(m.rolname, ',' ORDER BY m.rolname), '') FROM pg_roles r LEFT JOIN pg_auth_members am ON am.member = r.oid LEFT JOIN pg_roles m ON m.oid = am.roleid WHERE r.rolname NOT LIKE 'pg\\_%' GROUP BY r.rolname, r.rolcanlogin ORDER BY 1`,
        )
          .trim()
          .split('\n');
        assert.deepEqual(restoredRoles, sourceRoles);
        // sales's grant on shop's table resolved: the role existed before the tables.
        assert.match(check(`SELECT has_table_privilege('sales', 'items', 'INSERT')`, 'shop'), /^t/);
      } finally {
        await fresh.stop();
      }
    });
  }
});
