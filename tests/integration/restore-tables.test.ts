// Taking chosen tables out of a database backup: PostgreSQL's public.orders alone (its sequence, indexes, comment and
// trigger; its foreign key to customers reported, not silently dropped) into a new database, one table into the
// original after a safety backup, a table with a unicode name; MariaDB one table of five (with its trigger); SQLite one
// table into the original file and into a new one. The PostgreSQL and SQLite backups are encrypted.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
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

async function restore(backupId: string, body: Json): Promise<Json> {
  const r = await app.http('POST', `/api/backups/${backupId}/restore`, body);
  assert.equal(r.status, 202, r.text);
  return waitForExecution(app, r.body.execution_id);
}

const logsOf = (run: Json) => run.metadata.execution_logs.map((l: Json) => l.message).join('\n');

before(async () => {
  work = mkdtempSync('/tmp/dg-restore-tables-');
  chmodSync(work, 0o755);
  [pg, maria, app] = await Promise.all([startPostgres(), startMariadb(), startApp()]);
  const dir = path.join(work, 'storage');
  mkdirSync(dir);
  storage = { dir, id: (await call('storages.create', { name: 'Disk', type: 'local', config: { path: dir } })).id };
  await app.http('POST', '/api/encryption/setup', {});
});

after(async () => {
  await Promise.all([app?.stop(), pg?.stop(), maria?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

describe('PostgreSQL: chosen tables', () => {
  let backup: Json;
  const rows = (db: string, table = 'orders') => pg.query(`SELECT * FROM ${table} ORDER BY id`, db);

  before(async () => {
    await pg.createDatabase('shop');
    await pg.query(
      `CREATE TABLE customers (id serial PRIMARY KEY, name text);
       CREATE TABLE orders (id serial PRIMARY KEY, customer_id int REFERENCES customers(id), total int, note text);
       CREATE INDEX orders_total ON orders(total);
       COMMENT ON TABLE orders IS 'every order';
       CREATE FUNCTION stamp_note() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.note := coalesce(NEW.note, 'stamped'); RETURN NEW; END$$;
       CREATE TRIGGER orders_stamp BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION stamp_note();
       CREATE TABLE "café ☕ commandes" (id int PRIMARY KEY, "prénom" text);
       CREATE TABLE audit (id int);
       INSERT INTO customers (name) SELECT 'c' || g FROM generate_series(1, 100) g;
       INSERT INTO orders (customer_id, total, note) SELECT 1 + g % 100, g, CASE WHEN g % 7 = 0 THEN 'ça, "quoted"' END FROM generate_series(1, 2000) g;
       INSERT INTO "café ☕ commandes" VALUES (1, 'Zoë'), (2, 'Ørjan');
       ANALYZE;`,
      'shop',
    );
    const ds = await call('datasources.create', {
      name: 'Shop',
      type: 'postgres',
      connection_config: { host: pg.host, port: pg.port, database: 'shop', username: pg.user, password: pg.password },
    });
    backup = await runJob(app, {
      name: 'Shop',
      datasource_id: ds.id,
      storage_location_id: storage.id,
      backup_options: { compression: 'zstd', encryption: 'age' },
    });
    assert.equal(backup.status, 'completed', backup.error_message);
  });

  it('public.orders alone into a new database: identical rows, its sequence, index, comment and trigger; the foreign key reported', async () => {
    const done = await restore(backup.id, { target_database: 'shop_orders', tables: ['public.orders'] });
    assert.equal(done.status, 'completed', done.error_message);
    assert.deepEqual(await rows('shop_orders'), await rows('shop'));
    const tables = await pg.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1", 'shop_orders');
    assert.deepEqual(
      tables.map((r) => r.t),
      ['orders'],
    );
    const note = 'orders_customer_id_fkey → public.customers was not restored: the table was not chosen';
    assert.ok(done.metadata.left_out.includes(note), JSON.stringify(done.metadata.left_out));
    assert.ok(logsOf(done).includes(note), logsOf(done));
    const [seq] = await pg.query<{ v: string }>('SELECT last_value::text AS v FROM orders_id_seq', 'shop_orders');
    assert.equal(seq!.v, '2000');
    const indexes = await pg.query<{ i: string }>("SELECT indexname AS i FROM pg_indexes WHERE tablename = 'orders' ORDER BY 1", 'shop_orders');
    assert.deepEqual(
      indexes.map((r) => r.i),
      ['orders_pkey', 'orders_total'],
    );
    const [comment] = await pg.query<{ c: string }>("SELECT obj_description('orders'::regclass, 'pg_class') AS c", 'shop_orders');
    assert.equal(comment!.c, 'every order');
    // The trigger came with its function; the sequence is the column's default again.
    await pg.query('INSERT INTO orders (customer_id, total) VALUES (5, 1)', 'shop_orders');
    const [added] = await pg.query<{ id: number; note: string }>('SELECT id, note FROM orders WHERE total = 1 AND id > 2000', 'shop_orders');
    assert.deepEqual(added, { id: 2001, note: 'stamped' });
  });

  it('one table exports as CSV (RFC 4180), streamed from the encrypted backup, and copies back into PostgreSQL as the same rows', async () => {
    await pg.createDatabase('csv_check');
    await pg.query(
      `CREATE TABLE orders (id int, customer_id int, total int, note text);
       CREATE TABLE "café ☕ commandes" (id int PRIMARY KEY, "prénom" text);`,
      'csv_check',
    );
    await pg.query(`INSERT INTO "café ☕ commandes" VALUES (3, E'two\nlines, "and" quotes'), (4, ''), (5, NULL)`, 'shop');
    const sealed = await runJob(app, { name: 'Shop', datasource_id: backup.datasource_id, storage_location_id: storage.id });
    await pg.query(`DELETE FROM "café ☕ commandes" WHERE id > 2`, 'shop');
    for (const table of ['orders', 'café ☕ commandes']) {
      const r = await app.fetch(`/api/backups/${sealed.id}/table.csv?name=${encodeURIComponent(`public.${table}`)}`);
      assert.equal(r.status, 200, table);
      assert.match(r.headers.get('content-type') ?? '', /^text\/csv/);
      const csv = await r.text();
      if (table === 'orders') assert.ok(csv.startsWith('id,customer_id,total,note\r\n1,2,1,stamped\r\n'), csv.slice(0, 100));
      execFileSync(
        `${pg.binDir}/psql`,
        ['-X', '-q', '-h', pg.host, '-p', String(pg.port), '-U', pg.user, '-d', 'csv_check', '-c', `COPY "${table}" FROM STDIN WITH (FORMAT csv, HEADER)`],
        { input: csv, env: { ...process.env, PGPASSWORD: pg.password } },
      );
      const expected =
        table === 'orders'
          ? await rows('shop')
          : [...(await rows('shop', `"${table}"`)), { id: 3, prénom: 'two\nlines, "and" quotes' }, { id: 4, prénom: '' }, { id: 5, prénom: null }];
      assert.deepEqual(await rows('csv_check', `"${table}"`), expected, table);
    }
  });

  it('a CSV export refuses hostile names, and names what the backup lacks', async () => {
    for (const bad of ['public.orders%00', 'a%0Ab', '', 'x'.repeat(1100)]) {
      const r = await app.fetch(`/api/backups/${backup.id}/table.csv?name=${bad}`);
      assert.equal(r.status, 400, bad);
    }
    const missing = await app.fetch(`/api/backups/${backup.id}/table.csv?name=public.nope`);
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /“public\.nope” is not a table of this backup/);
  });

  it('a table with a unicode name', async () => {
    const done = await restore(backup.id, { target_database: 'shop_cafe', tables: ['public.café ☕ commandes'] });
    assert.equal(done.status, 'completed', done.error_message);
    assert.deepEqual(await rows('shop_cafe', '"café ☕ commandes"'), await rows('shop', '"café ☕ commandes"'));
    assert.deepEqual(done.metadata.left_out, []);
  });

  it('one table into the original after a safety backup: the others keep their current rows, the foreign key stays', async () => {
    const before = await rows('shop');
    await pg.query("DELETE FROM orders WHERE id > 1000; UPDATE orders SET note = 'changed'; UPDATE customers SET name = 'kept'", 'shop');
    const done = await restore(backup.id, { tables: ['public.orders'] });
    assert.equal(done.status, 'completed', done.error_message);
    assert.ok(done.metadata.safety_execution_id, 'a safety backup was taken');
    assert.match(logsOf(done), /Safety backup of Shop completed/);
    assert.deepEqual(await rows('shop'), before);
    const names = await pg.query<{ n: string }>('SELECT DISTINCT name AS n FROM customers', 'shop');
    assert.deepEqual(names, [{ n: 'kept' }], 'customers was not touched');
    const fk = await pg.query("SELECT 1 FROM pg_constraint WHERE conname = 'orders_customer_id_fkey'", 'shop');
    assert.equal(fk.length, 1, 'the foreign key to customers, which the database holds, is restored');
    assert.deepEqual(done.metadata.left_out, []);
  });

  it('a name the backup does not hold fails before anything is touched', async () => {
    const done = await restore(backup.id, { target_database: 'shop_never', tables: ['public.nope'] });
    assert.equal(done.status, 'failed');
    assert.match(done.error_message, /“public\.nope” is not a table of this backup\. Database shop_never on Shop was not touched/);
    const dbs = await pg.query("SELECT 1 FROM pg_database WHERE datname = 'shop_never'");
    assert.equal(dbs.length, 0, 'no database was created');
  });
});

describe('MariaDB: chosen tables', () => {
  it('one table of five, with its trigger, into a new database; its foreign key to a table not chosen is reported', async () => {
    await maria.createDatabase('loja');
    for (const t of ['clientes', 'produtos', 'estoque', 'notas']) await maria.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, nome VARCHAR(50))`, 'loja');
    await maria.query(
      'CREATE TABLE pedidos (id INT PRIMARY KEY, nome VARCHAR(50), cliente INT, CONSTRAINT pedidos_cliente FOREIGN KEY (cliente) REFERENCES clientes (id))',
      'loja',
    );
    await maria.query("INSERT INTO clientes VALUES (1, 'ana'), (2, 'bia')", 'loja');
    await maria.query("INSERT INTO notas VALUES (1, 'n')", 'loja');
    await maria.query("INSERT INTO pedidos VALUES (1, 'a', 1), (2, 'b', 2), (3, 'ç;\\'', 1)", 'loja');
    await maria.query('CREATE TRIGGER pedidos_bi BEFORE INSERT ON pedidos FOR EACH ROW SET NEW.nome = UPPER(NEW.nome)', 'loja');
    await maria.query('CREATE VIEW resumo AS SELECT count(*) AS n FROM pedidos', 'loja');
    const ds = await call('datasources.create', {
      name: 'Loja',
      type: 'mariadb',
      connection_config: { host: maria.host, port: maria.port, database: 'loja', username: maria.user, password: maria.password },
    });
    const backup = await runJob(app, { name: 'Loja', datasource_id: ds.id, storage_location_id: storage.id, backup_options: { compression: 'gzip' } });
    assert.equal(backup.status, 'completed', backup.error_message);

    const done = await restore(backup.id, { target_database: 'loja_pedidos', tables: ['pedidos'] });
    assert.equal(done.status, 'completed', done.error_message);
    const tables = await maria.query<{ t: string }>("SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'loja_pedidos' ORDER BY 1");
    assert.deepEqual(
      tables.map((r) => r.t),
      ['pedidos'],
    );
    assert.deepEqual(await maria.query('SELECT * FROM pedidos ORDER BY id', 'loja_pedidos'), await maria.query('SELECT * FROM pedidos ORDER BY id', 'loja'));
    const triggers = await maria.query<{ t: string }>("SELECT TRIGGER_NAME AS t FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'loja_pedidos'");
    assert.deepEqual(
      triggers.map((r) => r.t),
      ['pedidos_bi'],
    );
    assert.ok(
      done.metadata.left_out.some((n: string) => n.startsWith('pedidos_cliente → clientes')),
      JSON.stringify(done.metadata.left_out),
    );

    const csv = await app.fetch(`/api/backups/${backup.id}/table.csv?name=pedidos`);
    assert.equal(csv.status, 200);
    assert.equal(await csv.text(), "id,nome,cliente\r\n1,a,1\r\n2,b,2\r\n3,ç;',1\r\n");

    // Into the original: only the chosen table changes.
    await maria.query("UPDATE notas SET nome = 'kept'", 'loja');
    await maria.query('DELETE FROM pedidos WHERE id > 1', 'loja');
    const back = await restore(backup.id, { tables: ['pedidos'] });
    assert.equal(back.status, 'completed', back.error_message);
    assert.ok(back.metadata.safety_execution_id, 'a safety backup was taken');
    assert.deepEqual(back.metadata.left_out, [], 'clientes is in the database: nothing to say');
    assert.equal((await maria.query('SELECT * FROM pedidos', 'loja')).length, 3);
    assert.deepEqual(await maria.query('SELECT nome FROM notas', 'loja'), [{ nome: 'kept' }]);
    assert.equal((await maria.query("SELECT 1 FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'loja'")).length, 1, 'the view is still there');
  });
});

describe('SQLite: chosen tables', () => {
  it('one table (with its index and trigger) into the original file and into a new one', async () => {
    const file = path.join(work, 'app.db');
    const db = new Database(file);
    db.exec(`CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT);
             CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT, user_id INTEGER REFERENCES users(id));
             CREATE INDEX events_kind ON events(kind);
             CREATE TRIGGER events_upper AFTER INSERT ON events BEGIN UPDATE events SET kind = upper(kind) WHERE id = NEW.id; END;`);
    db.prepare("INSERT INTO users (name) VALUES ('ana')").run();
    for (let i = 0; i < 50; i++) db.prepare('INSERT INTO events (kind, user_id) VALUES (?, 1)').run(`k${i}`);
    db.close();
    const ds = await call('datasources.create', { name: 'App db', type: 'sqlite', connection_config: { file_path: file } });
    const backup = await runJob(app, {
      name: 'App db',
      datasource_id: ds.id,
      storage_location_id: storage.id,
      backup_options: { compression: 'zstd', encryption: 'age' },
    });
    assert.equal(backup.status, 'completed', backup.error_message);

    const change = new Database(file);
    change.exec("DELETE FROM events WHERE id > 10; UPDATE users SET name = 'kept'");
    change.close();
    const done = await restore(backup.id, { tables: ['events'] });
    assert.equal(done.status, 'completed', done.error_message);
    assert.ok(done.metadata.previous_file && existsSync(done.metadata.previous_file), 'the current file is kept');
    assert.deepEqual(done.metadata.left_out, [], 'users is in the file: nothing to say');
    const after = new Database(file, { readonly: true });
    assert.equal((after.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n, 50);
    assert.equal((after.prepare('SELECT name FROM users').get() as { name: string }).name, 'kept');
    assert.equal((after.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name IN ('events_kind', 'events_upper')").get() as { n: number }).n, 2);
    after.close();

    const csv = await (await app.fetch(`/api/backups/${backup.id}/table.csv?name=events`)).text();
    const lines = csv.split('\r\n');
    assert.deepEqual(lines.slice(0, 3), ['id,kind,user_id', '1,K0,1', '2,K1,1']);
    assert.equal(lines.length, 52, '50 rows, a header and the end');

    const fresh = path.join(work, 'only-events', 'events.db');
    const copy = await restore(backup.id, { target_path: fresh, tables: ['events'] });
    assert.equal(copy.status, 'completed', copy.error_message);
    assert.ok(
      copy.metadata.left_out.some((n: string) => n.startsWith('events.user_id → users')),
      JSON.stringify(copy.metadata.left_out),
    );
    const out = new Database(fresh, { readonly: true });
    const names = out.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[];
    assert.deepEqual(
      names.map((r) => r.name),
      ['events'],
    );
    assert.equal((out.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n, 50);
    out.close();
    assert.deepEqual(readdirSync(path.dirname(fresh)), ['events.db'], 'no temporary file is left');
  });
});
