// "Every database on this server": discovery, one artifact per database plus the globals, partial runs,
// and restores of one, several or all databases, on real PostgreSQL and MariaDB servers.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startMariadb, startPostgres, type MariaServer, type PgServer } from '../harness/index.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';
import { runJob, sh, waitForExecution } from '../support/backups.js';
import { mariaServerWithDatabases, pgServerWithDatabases, READER } from '../support/servers.js';

let app: AppUnderTest;
let pg: PgServer;
let maria: MariaServer;
let work: string;
let storage: Json;

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
  mkdirSync(path.join(work, 'storage'));
  storage = await call('storages.create', { name: 'Local', type: 'local', config: { path: path.join(work, 'storage') } });
  // Successes reach the inbox too: the tests read what a run announced.
  await call('settings.update', { 'notifications.routing': { backup_success: 'inbox' } });
  // Encrypted backups are age files per artifact: the restores below decrypt each with the app's key.
  await call('encryption.setup');
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
    // Its health check says how many databases it backs up and each one's size.
    const check = await call('datasources.healthCheck', { id: saved.id });
    assert.equal(check.status, 'ok');
    assert.equal(check.metadata.databases_count, 2);
    assert.deepEqual(check.metadata.databases.map((d: Json) => d.name).sort(), ['Vendas 2026 ção', 'shop']);
    assert.ok(check.metadata.databases.every((d: Json) => d.size_bytes > 0));
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

/** The backup's folder on the local storage. */
const folderOf = (execution: Json) => path.join(work, 'storage', execution.backup_path);
const manifestOf = (execution: Json) => JSON.parse(readFileSync(path.join(folderOf(execution), 'manifest.json'), 'utf8'));
const sha256 = (file: string) => `sha256:${sh(`sha256sum ${JSON.stringify(file)}`).split(' ')[0]}`;
/** A table's rows as one checksum, in key order. */
const itemsChecksum = async (db: string) =>
  (await pg.query<{ n: string; sum: string }>(`SELECT count(*)::text AS n, md5(string_agg(t::text, ',' ORDER BY id)) AS sum FROM items t`, db))[0];

/** pg_restore of one database's artifact, decompressed by hand, into a new database. */
function pgRestoreByHand(folder: string, artifact: string, into: string) {
  sh(`zstd -dcq ${JSON.stringify(path.join(folder, artifact))} | pg_restore --no-owner --dbname=${JSON.stringify(into)}`, {
    PATH: `${pg.binDir}:${process.env.PATH}`,
    PGHOST: pg.host,
    PGPORT: String(pg.port),
    PGUSER: pg.user,
    PGPASSWORD: pg.password,
  });
}

describe('a run backs up each database as its own artifact, plus the globals', () => {
  let datasource: Json;
  let job: Json;
  let first: Json;

  before(async () => {
    await pg.createDatabase('to_drop');
    datasource = await call('datasources.create', { name: 'Sales server', type: 'postgres', connection_config: pgServer({ exclude: ['*_tmp'] }) });
  });

  it('writes <database>.dump.zst per picked database, globals.sql.zst, and a manifest listing them', async () => {
    first = await runJob(app, {
      name: 'Whole server',
      datasource_id: datasource.id,
      storage_location_id: storage.id,
      backup_options: { compression: 'zstd', parallel_databases: 2, encryption: 'none' },
    });
    assert.equal(first.status, 'completed', first.error_message);
    job = { id: first.job_id };
    const manifest = manifestOf(first);
    const names = manifest.server.databases.map((d: Json) => d.name);
    assert.deepEqual(
      names,
      [...names].sort((a: string, b: string) => a.localeCompare(b)),
    );
    assert.deepEqual(new Set(names), new Set(['postgres', 'shop', 'Vendas 2026 ção', `it's a "db"`, 'to_drop']));
    assert.equal(manifest.artifact, 'globals.sql.zst');
    const files = readdirSync(folderOf(first)).sort();
    const expected = ['globals.sql.zst', 'manifest.json', ...manifest.server.databases.map((d: Json) => d.artifact)].sort();
    assert.deepEqual(files, expected);
    assert.ok(files.includes('shop.dump.zst'));
    for (const f of files) assert.match(f, /^[A-Za-z0-9][A-Za-z0-9_.-]*$/, f);
    for (const d of manifest.server.databases) {
      assert.equal(d.status, 'completed');
      assert.equal(d.chunks.length, 1);
      assert.equal(d.checksum, sha256(path.join(folderOf(first), d.artifact)));
      assert.ok(d.total_size_bytes > 0 && d.compressed_size_bytes > 0 && d.duration_ms >= 0);
    }
    assert.equal(manifest.checksum, sha256(path.join(folderOf(first), 'globals.sql.zst')));
    // The globals: the roles, their memberships, with their passwords (a superuser reads them).
    const globals = sh(`zstd -dcq ${JSON.stringify(path.join(folderOf(first), 'globals.sql.zst'))}`);
    assert.match(globals, /CREATE ROLE sales;/);
    assert.match(globals, /GRANT analysts TO sales/);
    assert.match(globals, /ALTER ROLE sales WITH .*PASSWORD 'SCRAM-SHA-256/);
    assert.deepEqual(first.metadata.server.globals.notes, []);
    // One download would join unrelated files: refused, with what to do instead.
    const download = await app.fetch(`/api/executions/${first.id}/download`);
    assert.ok(download.status >= 400 && download.status < 500, String(download.status));
    assert.match(await download.text(), /a file per database/);
  });

  it('each artifact is a plain pg_dump file: the database with a space and quotes restores by hand, identical', async () => {
    const manifest = manifestOf(first);
    const odd = manifest.server.databases.find((d: Json) => d.name === `it's a "db"`);
    await pg.createDatabase('by_hand_tmp');
    pgRestoreByHand(folderOf(first), odd.artifact, 'by_hand_tmp');
    assert.deepEqual(await itemsChecksum('by_hand_tmp'), await itemsChecksum(`it's a "db"`));
  });

  it('announces a database created since the last run and notes one that is gone', async () => {
    await pg.createDatabase('sales_2027');
    await pg.query('DROP DATABASE to_drop');
    const run = await call('jobs.run', { id: job.id });
    const second = await waitForExecution(app, run.execution_id);
    assert.equal(second.status, 'completed', second.error_message);
    assert.deepEqual(second.metadata.server.added, ['sales_2027']);
    assert.deepEqual(second.metadata.server.gone, ['to_drop']);
    const logs = second.metadata.execution_logs.map((l: Json) => l.message).join('\n');
    assert.match(logs, /Now also backing up sales_2027/);
    assert.match(logs, /to_drop is gone from the server/);
    const inbox = await call('notifications.list', {});
    const told = inbox.find((n: Json) => n.metadata?.execution_id === second.id);
    assert.ok(told, 'the run is notified');
    assert.match(told.message, /Now also backing up sales_2027/);
    assert.match(told.message, /to_drop/);
  });
});

describe('a database that fails does not stop the others', () => {
  it('CONNECT revoked on one database: the run is partial, names it, and the others are complete backups', async () => {
    const datasource = await call('datasources.create', {
      name: 'Sales server (reader)',
      type: 'postgres',
      connection_config: pgServer({ username: READER.user, password: READER.password, exclude: ['*_tmp', 'sales_*'] }),
    });
    await pg.query('REVOKE CONNECT ON DATABASE shop FROM PUBLIC');
    let run: Json;
    try {
      run = await runJob(app, {
        name: 'Reader',
        datasource_id: datasource.id,
        storage_location_id: storage.id,
        backup_options: { compression: 'zstd', encryption: 'none' },
      });
    } finally {
      await pg.query('GRANT CONNECT ON DATABASE shop TO PUBLIC');
    }
    assert.equal(run.status, 'partial', run.error_message);
    assert.match(run.error_message, /Not backed up: shop/);
    const byName = Object.fromEntries(run.metadata.server.databases.map((d: Json) => [d.name, d]));
    assert.equal(byName.shop.status, 'failed');
    assert.match(byName.shop.error, /permission denied|CONNECT/i);
    assert.equal(byName['Vendas 2026 ção'].status, 'completed');
    // Not a superuser: the roles are there, their passwords are not, and the run says so.
    assert.match(run.metadata.server.globals.notes.join(' '), /Role passwords are not in this backup/);
    const files = readdirSync(folderOf(run));
    assert.ok(!files.some((f) => f.startsWith('shop.')), 'nothing of the failed database stays');
    await pg.createDatabase('vendas_partial_tmp');
    pgRestoreByHand(folderOf(run), byName['Vendas 2026 ção'].artifact, 'vendas_partial_tmp');
    assert.deepEqual(await itemsChecksum('vendas_partial_tmp'), await itemsChecksum('Vendas 2026 ção'));
    const inbox = await call('notifications.list', {});
    const told = inbox.find((n: Json) => n.metadata?.execution_id === run.id);
    assert.equal(told.severity, 'warning');
    assert.match(told.title, /1 of \d+ databases failed \(shop\)/);
  });
});

describe('retention, database by database', () => {
  it('a partial run counts only for the databases it holds: the last good backup of shop stays while shop fails', async () => {
    const datasource = await call('datasources.create', {
      name: 'Reader server (retention)',
      type: 'postgres',
      connection_config: pgServer({ username: READER.user, password: READER.password, exclude: ['*_tmp', 'sales_*'] }),
    });
    const first = await runJob(app, {
      name: 'Keep one',
      datasource_id: datasource.id,
      storage_location_id: storage.id,
      retention_policy: { max_backups: 1 },
      backup_options: { compression: 'zstd', encryption: 'none' },
    });
    assert.equal(first.status, 'completed', first.error_message);
    const run = async () => waitForExecution(app, (await call('jobs.run', { id: first.job_id })).execution_id);
    /** The job's cleanups once none is queued or running (the one a backup queues starts a moment after it). */
    const settled = async () => {
      for (const until = Date.now() + 60_000; ;) {
        const all: Json[] = await call('executions.list', { job_id: first.job_id, limit: 100 });
        const cleanups = all.filter((e) => e.operation === 'cleanup');
        if (cleanups.every((e) => !['queued', 'running'].includes(e.status))) return cleanups;
        if (Date.now() > until) throw new Error('a cleanup is still running');
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const deleted = async (e: Json) => Boolean((await call('executions.get', { id: e.id })).deleted_at);

    await pg.query('REVOKE CONNECT ON DATABASE shop FROM PUBLIC');
    let second: Json;
    let third: Json;
    try {
      second = await run();
      await settled();
      third = await run();
    } finally {
      await pg.query('GRANT CONNECT ON DATABASE shop TO PUBLIC');
    }
    assert.equal(second.status, 'partial');
    assert.equal(third.status, 'partial');
    const [cleanup] = (await settled()).filter((c) => c.status === 'completed');
    assert.ok(cleanup, 'the third run let the second go');
    assert.equal(await deleted(second), true, 'the second holds nothing the third does not');
    assert.equal(await deleted(first), false, "the first holds shop's last good backup");
    assert.ok(readdirSync(folderOf(first)).includes('shop.dump.zst'));
    assert.equal(await deleted(third), false);
    // The job's retention preview says why the first stays.
    const preview = await call('jobs.retentionPreview', { id: first.job_id });
    assert.deepEqual(preview.kept.find((d: Json) => d.execution_id === first.id).reasons, ['shop: newest, last 1']);

    // shop is backed up again: its old backup is no longer its last good one, and goes.
    const fourth = await run();
    assert.equal(fourth.status, 'completed', fourth.error_message);
    await settled();
    assert.equal(await deleted(first), true);
    assert.equal(await deleted(third), true);
    assert.equal(await deleted(fourth), false);
  });
});

describe('MariaDB: every database and the users with their grants', () => {
  it('writes one artifact per database and globals.sql with CREATE USER and GRANT', async () => {
    const datasource = await call('datasources.create', {
      name: 'CRM server',
      type: 'mariadb',
      connection_config: { host: maria.host, port: maria.port, username: maria.user, password: maria.password, all_databases: true, exclude: ['logs_*'] },
    });
    const run = await runJob(app, {
      name: 'CRM server',
      datasource_id: datasource.id,
      storage_location_id: storage.id,
      backup_options: { compression: 'zstd', encryption: 'none' },
    });
    assert.equal(run.status, 'completed', run.error_message);
    const manifest = manifestOf(run);
    assert.deepEqual(manifest.server.databases.map((d: Json) => d.name).sort(), ['Vendas 2026 ção', 'crm']);
    const globals = sh(`zstd -dcq ${JSON.stringify(path.join(folderOf(run), 'globals.sql.zst'))}`);
    assert.match(globals, /CREATE USER IF NOT EXISTS `sales`@`%`/);
    assert.match(globals, /GRANT SELECT, INSERT ON `crm`\.\* TO `sales`@`%`/);
    assert.doesNotMatch(globals, /`root`@/);
    const crm = manifest.server.databases.find((d: Json) => d.name === 'crm');
    assert.ok(sh(`zstd -dcq ${JSON.stringify(path.join(folderOf(run), crm.artifact))}`).includes('INSERT INTO `items`'));
  });
});

/** A database's schema as pg_dump writes it, without the lines that differ between any two dumps. */
const schemaOf = (port: number, password: string, db: string) =>
  sh(`pg_dump --schema-only --dbname=${JSON.stringify(db)}`, {
    PATH: `${pg.binDir}:${process.env.PATH}`,
    PGHOST: pg.host,
    PGPORT: String(port),
    PGUSER: pg.user,
    PGPASSWORD: password,
  })
    .split('\n')
    .filter((l) => !/^\\(un)?restrict /.test(l))
    .join('\n');

/**
 * A whole cluster as pg_dumpall writes it, passwords aside: roles, memberships, each database with its owner, settings,
 * grants and contents (the databases the backup leaves out aside), without the lines that differ between any two dumps.
 */
const clusterOf = (port: number, password: string) =>
  sh(`pg_dumpall --no-role-passwords ${['*_tmp', 'sales_*', 'to_drop'].map((p) => `--exclude-database='${p}'`).join(' ')}`, {
    PATH: `${pg.binDir}:${process.env.PATH}`,
    PGHOST: pg.host,
    PGPORT: String(port),
    PGUSER: pg.user,
    PGPASSWORD: password,
  })
    .split('\n')
    .filter((l) => !/^\\(un)?restrict /.test(l) && !/^--/.test(l))
    .join('\n');

describe('restore from a whole server backup', () => {
  let backup: Json;
  let serverDs: Json;

  before(async () => {
    // A second table in shop, with a foreign key to items: what a restore of chosen tables leaves out and reports.
    await pg.query(
      `CREATE TABLE notes (id int PRIMARY KEY, item_id int NOT NULL REFERENCES items (id), body text);
       INSERT INTO notes SELECT g, 1 + g % 10, 'note ' || g || ' ção' FROM generate_series(1, 50) g;`,
      'shop',
    );
    serverDs = await call('datasources.create', {
      name: 'Restore source',
      type: 'postgres',
      connection_config: pgServer({ exclude: ['*_tmp', 'sales_*', 'to_drop'] }),
    });
    backup = await runJob(app, {
      name: 'Restore source',
      datasource_id: serverDs.id,
      storage_location_id: storage.id,
      backup_options: { compression: 'zstd', encryption: 'age', max_file_size_mb: 1 },
    });
    assert.equal(backup.status, 'completed', backup.error_message);
  });

  it('one database under a new name: the same schema (pg_dump --schema-only) and rows', async () => {
    const started = await call('backups.restore', { id: backup.id, database: 'Vendas 2026 ção', target_database: 'vendas_copy_tmp' });
    const done = await waitForExecution(app, started.execution_id);
    assert.equal(done.status, 'completed', done.error_message);
    assert.equal(schemaOf(pg.port, pg.password, 'vendas_copy_tmp'), schemaOf(pg.port, pg.password, 'Vendas 2026 ção'));
    assert.deepEqual(await itemsChecksum('vendas_copy_tmp'), await itemsChecksum('Vendas 2026 ção'));
    assert.equal(done.metadata.safety_execution_id, null, 'a new database replaces nothing');
  });

  it('one database into itself, after a safety backup of that database only', async () => {
    const before = await itemsChecksum('shop');
    await pg.query('DELETE FROM items WHERE id > 10', 'shop');
    const started = await call('backups.restore', { id: backup.id, database: 'shop' });
    const done = await waitForExecution(app, started.execution_id);
    assert.equal(done.status, 'completed', done.error_message);
    assert.deepEqual(await itemsChecksum('shop'), before);
    const safety = await call('executions.get', { id: done.metadata.safety_execution_id });
    assert.deepEqual(
      safety.metadata.server.databases.map((d: Json) => d.name),
      ['shop'],
    );
  });

  it('verify: the checksum of every file of every database, and a restore test of each database', async () => {
    for (const method of ['checksum', 'restore-test']) {
      const started = await call('backups.verify', { id: backup.id, method });
      const done = await waitForExecution(app, started.execution_id);
      assert.equal(done.status, 'completed', done.error_message);
      assert.equal(done.metadata.verification.ok, true, done.metadata.verification.message);
      if (method === 'restore-test') {
        // A test restore is a drill: each database restored from its own parts into a scratch database and checked.
        assert.match(done.metadata.verification.message, /checks passed/);
        const checked = new Set(done.metadata.checks.map((c: Json) => String(c.name).split(': ')[0]));
        for (const name of ['shop', 'Vendas 2026 ção']) assert.ok(checked.has(name), `${name} not drilled: ${[...checked].join(', ')}`);
      }
    }
  });

  it("browsing: one database's tables at a time (GET /api/backups/:id/entries?database=), from its own artifact", async () => {
    const page = await call('backups.entries', { id: backup.id, database: 'Vendas 2026 ção' });
    assert.equal(page.kind, 'tables');
    assert.deepEqual(page.entries.map((e: Json) => `${e.type} ${e.path}`).sort(), ['TABLE public.items', 'VIEW public.cheap']);
    const rest = await app.http('GET', `/api/backups/${backup.id}/entries?database=${encodeURIComponent(`it's a "db"`)}&q=item`);
    assert.equal(rest.status, 200, rest.text);
    const found: Json = rest.body.entries;
    assert.deepEqual(
      found.map((e: Json) => e.path),
      ['public.items'],
    );
    // A name it does not hold (a path, a quote), none for a server's backup, and one for a one-database backup: refused, named.
    for (const [input, message] of [
      [{ database: '../shop' }, /no database named \.\.\/shop/],
      [{ database: `shop'; DROP DATABASE shop; --` }, /no database named/],
      [{}, /several databases: choose one/],
    ] as const) {
      const r = await app.rpc('backups.entries', { id: backup.id, ...input });
      assert.equal(r.body.ok, false, JSON.stringify(input));
      assert.equal(r.body.error.issues[0].path, 'database');
      assert.match(r.body.error.message, message);
    }
    assert.equal((await pg.query(`SELECT 1 FROM pg_database WHERE datname = 'shop'`)).length, 1);
  });

  it('refuses names the backup does not hold, a new name for several, and a one-database backup asked for databases', async () => {
    for (const [input, field] of [
      [{ database: 'nope' }, 'database'],
      [{ databases: ['shop', 'nope'] }, 'databases'],
      [{ databases: ['shop', 'postgres'], target_database: 'x_tmp' }, 'target_database'],
      [{}, 'databases'],
    ] as const) {
      const r = await app.rpc('backups.restore', { id: backup.id, ...input });
      assert.equal(r.body.ok, false, JSON.stringify(input));
      assert.equal(r.body.error.issues[0].path, field, r.text);
    }
  });

  it('all into a fresh cluster made with initdb: pg_dumpall of both identical (roles, memberships, owners, grants, settings, data), passwords aside', async () => {
    const fresh = await startPostgres();
    try {
      const target = await call('datasources.create', {
        name: 'Fresh cluster',
        type: 'postgres',
        connection_config: { host: fresh.host, port: fresh.port, username: fresh.user, password: fresh.password, all_databases: true },
      });
      const started = await call('backups.restore', { id: backup.id, databases: 'all', target_datasource_id: target.id });
      const done = await waitForExecution(app, started.execution_id);
      assert.equal(done.status, 'completed', done.error_message);
      const [restored, source] = [clusterOf(fresh.port, fresh.password), clusterOf(pg.port, pg.password)];
      assert.equal(restored, source);
      // What the comparison covers: owners, settings, comments and grants of the databases, owners of objects, data.
      for (const line of [
        'CREATE DATABASE "Vendas 2026 ção" WITH TEMPLATE = template0',
        'ALTER DATABASE "Vendas 2026 ção" OWNER TO sales;',
        "ALTER DATABASE shop SET work_mem TO '8MB';",
        'ALTER ROLE sales IN DATABASE shop SET search_path TO',
        "COMMENT ON DATABASE shop IS 'the shop''s orders';",
        'GRANT CONNECT ON DATABASE shop TO sales;',
        'GRANT CREATE ON DATABASE shop TO analysts;',
        'ALTER TABLE public.items OWNER TO sales;',
        'GRANT SELECT,INSERT ON TABLE public.items TO sales;',
        'GRANT analysts TO sales',
      ]) {
        assert.ok(restored.includes(line), line);
      }
      for (const db of ['shop', 'Vendas 2026 ção', `it's a "db"`]) {
        const [a] = await fresh.query<{ sum: string }>(`SELECT md5(string_agg(t::text, ',' ORDER BY id)) AS sum FROM items t`, db);
        assert.equal(a!.sum, (await itemsChecksum(db))!.sum, db);
      }
      assert.match(done.metadata.execution_logs.map((l: Json) => l.message).join('\n'), /shop has its owner, settings and grants of the backup/);
    } finally {
      await fresh.stop();
    }
  });

  const logsOf = (execution: Json) => execution.metadata.execution_logs.map((l: Json) => l.message).join('\n');
  const tablesOf = async (db: string) =>
    (
      await pg.query<{ name: string }>(
        `SELECT relname AS name FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'v') ORDER BY 1`,
        db,
      )
    ).map((r) => r.name);
  const notesChecksum = async (db: string) =>
    (await pg.query<{ n: string; sum: string }>(`SELECT count(*)::text AS n, md5(string_agg(t::text, ',' ORDER BY id)) AS sum FROM notes t`, db))[0];

  it('chosen tables of one database into a new database: identical rows, the other tables absent, the foreign key reported', async () => {
    const started = await call('backups.restore', { id: backup.id, database: 'shop', tables: ['public.notes'], target_database: 'shop_notes_tmp' });
    const done = await waitForExecution(app, started.execution_id);
    assert.equal(done.status, 'completed', done.error_message);
    assert.deepEqual(await tablesOf('shop_notes_tmp'), ['notes']);
    assert.deepEqual(await notesChecksum('shop_notes_tmp'), await notesChecksum('shop'));
    assert.equal(done.metadata.safety_execution_id, null, 'a new database replaces nothing');
    assert.deepEqual(done.metadata.tables, ['public.notes']);
    assert.deepEqual(done.metadata.databases, [{ name: 'shop', target: 'shop_notes_tmp' }]);
    assert.equal(done.metadata.left_out.length, 1, JSON.stringify(done.metadata.left_out));
    assert.match(done.metadata.left_out[0], /notes_item_id_fkey/);
    // The run says which tables of which database went where.
    assert.match(logsOf(done), /Restoring public\.notes of shop into a new database shop_notes_tmp/);
    assert.match(done.metadata.target, /1 table of shop into database shop_notes_tmp on Restore source/);
  });

  it('chosen tables into their own database after a safety backup of it: the others keep their current rows', async () => {
    const before = await notesChecksum('shop');
    const [original] = await pg.query<{ label: string }>('SELECT label FROM items WHERE id = 1', 'shop');
    await pg.query("DELETE FROM notes WHERE id > 20; UPDATE notes SET body = 'changed'; UPDATE items SET label = 'kept' WHERE id = 1", 'shop');
    const started = await call('backups.restore', { id: backup.id, database: 'shop', tables: ['public.notes'] });
    const done = await waitForExecution(app, started.execution_id);
    assert.equal(done.status, 'completed', done.error_message);
    assert.deepEqual(await notesChecksum('shop'), before);
    const [kept] = await pg.query<{ label: string }>('SELECT label FROM items WHERE id = 1', 'shop');
    assert.equal(kept!.label, 'kept', 'items was not touched');
    const fk = await pg.query("SELECT 1 FROM pg_constraint WHERE conname = 'notes_item_id_fkey'", 'shop');
    assert.equal(fk.length, 1, 'the foreign key to items, which the database holds, is restored');
    assert.deepEqual(done.metadata.left_out, []);
    const safety = await call('executions.get', { id: done.metadata.safety_execution_id });
    assert.deepEqual(
      safety.metadata.server.databases.map((d: Json) => d.name),
      ['shop'],
    );
    await pg.query('UPDATE items SET label = $1 WHERE id = 1', 'shop', [original!.label]);
  });

  it('chosen tables are refused with several databases, the globals, or no database, naming the field', async () => {
    for (const [input, field] of [
      [{ databases: ['shop'], tables: ['public.items'] }, 'databases'],
      [{ databases: 'all', tables: ['public.items'] }, 'databases'],
      [{ database: 'shop', globals: true, tables: ['public.items'] }, 'globals'],
      [{ tables: ['public.items'] }, 'database'],
      [{ database: 'nope', tables: ['public.items'] }, 'database'],
    ] as const) {
      const r = await app.rpc('backups.restore', { id: backup.id, ...input });
      assert.equal(r.body.ok, false, JSON.stringify(input));
      assert.equal(r.body.error.issues[0].path, field, r.text);
    }
  });
});

describe('MariaDB: all into an empty server', () => {
  it('users, roles and their grants (SHOW GRANTS of each) and data identical', async () => {
    const source = await call('datasources.create', {
      name: 'CRM source',
      type: 'mariadb',
      connection_config: { host: maria.host, port: maria.port, username: maria.user, password: maria.password, all_databases: true, exclude: ['logs_*'] },
    });
    const backup = await runJob(app, {
      name: 'CRM source',
      datasource_id: source.id,
      storage_location_id: storage.id,
      backup_options: { compression: 'zstd' },
    });
    assert.equal(backup.status, 'completed', backup.error_message);
    const fresh = await startMariadb();
    try {
      const target = await call('datasources.create', {
        name: 'Empty MariaDB',
        type: 'mariadb',
        connection_config: { host: fresh.host, port: fresh.port, username: fresh.user, password: fresh.password, all_databases: true },
      });
      const started = await call('backups.restore', { id: backup.id, databases: 'all', target_datasource_id: target.id });
      const done = await waitForExecution(app, started.execution_id);
      assert.equal(done.status, 'completed', `${done.error_message}\n${done.metadata.execution_logs.map((l: Json) => l.message).join('\n')}`);
      // Every user and role but the server's own and the login, each with SHOW GRANTS (its password hash too).
      const grants = async (server: MariaServer) => {
        const accounts = await server.query<{ user: string; host: string; role: string }>(
          `SELECT User AS user, Host AS host, is_role AS role FROM mysql.user WHERE User NOT IN ('root', 'mariadb.sys', '', ?) ORDER BY User, Host`,
          undefined,
          [server.user],
        );
        const all: Record<string, string[]> = {};
        for (const a of accounts) {
          const name = a.role === 'Y' ? `\`${a.user}\`` : `'${a.user}'@'${a.host}'`;
          all[name] = (await server.query<Record<string, string>>(`SHOW GRANTS FOR ${name}`)).map((r) => Object.values(r)[0]!).sort();
        }
        return all;
      };
      const [restored, source] = [await grants(fresh), await grants(maria)];
      assert.deepEqual(restored, source);
      assert.deepEqual(Object.keys(restored), ['`crm_readers`', `'reporting'@'localhost'`, `'sales'@'%'`]);
      assert.ok(restored[`'sales'@'%'`]!.includes('SET DEFAULT ROLE `crm_readers` FOR `sales`@`%`'));
      for (const db of ['crm', 'Vendas 2026 ção']) {
        // Rows by value, in key order (named in full: a pooled connection may point elsewhere).
        const sum = async (server: MariaServer) =>
          JSON.stringify(
            await server.query(`SELECT COUNT(*) AS n, MD5(GROUP_CONCAT(CONCAT_WS(',', id, label, price) ORDER BY id)) AS sum FROM \`${db}\`.items`),
          );
        assert.equal(await sum(fresh), await sum(maria), db);
      }
      assert.equal((await fresh.query(`SHOW DATABASES LIKE 'logs_tmp'`)).length, 0);
    } finally {
      await fresh.stop();
    }
  });
});

describe('losing the catalog loses nothing', () => {
  it('a fresh app imports the storage and restores one database of a server backup from it', async () => {
    const fresh = await startApp();
    try {
      const rpc = async (channel: string, input: unknown = {}) => {
        const r = await fresh.rpc(channel, input);
        assert.ok(r.body.ok, r.text);
        return r.body.data;
      };
      const imported = await rpc('storages.create', { name: 'Same folder', type: 'local', config: { path: path.join(work, 'storage') } });
      const result = await rpc('storages.import', { id: imported.id });
      assert.ok(result.added > 0, JSON.stringify(result));
      const target = await rpc('datasources.create', { name: 'Server here', type: 'postgres', connection_config: pgServer() });
      const [{ id }] = await fresh.core.db.query(
        `SELECT id FROM backup_executions WHERE metadata->'server' IS NOT NULL AND metadata->>'encryption' IS NULL AND status = 'completed' ORDER BY created_at LIMIT 1`,
      );
      const started = await rpc('backups.restore', { id, database: 'shop', target_database: 'shop_imported_tmp', target_datasource_id: target.id });
      const done = await waitForExecution(fresh, started.execution_id);
      assert.equal(done.status, 'completed', done.error_message);
      assert.equal((await itemsChecksum('shop_imported_tmp'))!.n, (await itemsChecksum('shop'))!.n);
      // The partial backup is partial here too.
      const [{ n }] = await fresh.core.db.query(`SELECT count(*)::int AS n FROM backup_executions WHERE status = 'partial'`);
      assert.ok(n >= 1);
    } finally {
      await fresh.stop();
    }
  });
});
