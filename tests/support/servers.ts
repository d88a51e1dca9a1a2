// The servers the whole-server tests back up: a PostgreSQL with four databases (one with accents, one
// with a space and quotes, one a glob leaves out) and a role with grants on two; a MariaDB with three
// databases, users with grants and a role.
import { startMariadb, startPostgres, type MariaServer, type PgServer } from '../harness/index.js';
import { quoteMariaIdentifier } from '../harness/mariadb.js';
import { quotePgIdentifier } from '../harness/postgres.js';

export const PG_DATABASES = ['shop', 'Vendas 2026 ção', `it's a "db"`, 'scratch_tmp'] as const;
export const MARIA_DATABASES = ['crm', 'Vendas 2026 ção', 'logs_tmp'] as const;
/** A non-superuser login that reads every table but not the role passwords: CONNECT revoked from it makes one database unreadable. */
export const READER = { user: 'backup_reader', password: 'reader pass' };

const q = quotePgIdentifier;

export async function pgServerWithDatabases(): Promise<PgServer> {
  const pg = await startPostgres();
  for (const [i, db] of PG_DATABASES.entries()) {
    await pg.createDatabase(db);
    await pg.query(
      `CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL, price numeric(10,2));
       INSERT INTO items SELECT g, 'item ' || g || ' ção', g * ${i + 1}.25 FROM generate_series(1, ${200 * (i + 1)}) g;
       CREATE VIEW cheap AS SELECT * FROM items WHERE price < 10;`,
      db,
    );
  }
  await pg.query(`CREATE ROLE sales LOGIN PASSWORD 'sales pass';
    CREATE ROLE analysts NOLOGIN; GRANT analysts TO sales;
    GRANT CONNECT ON DATABASE shop, ${q('Vendas 2026 ção')} TO sales;
    CREATE ROLE ${q(READER.user)} LOGIN PASSWORD '${READER.password}';`);
  for (const db of ['shop', 'Vendas 2026 ção']) await pg.query('GRANT SELECT, INSERT ON items TO sales; GRANT SELECT ON cheap TO analysts;', db);
  // What pg_dumpall keeps of a database beyond its contents: its owner, settings, comment and grants on it, and objects' owners.
  await pg.query(`ALTER DATABASE ${q('Vendas 2026 ção')} OWNER TO sales;
    ALTER DATABASE shop SET work_mem = '8MB'; ALTER ROLE sales IN DATABASE shop SET search_path = public, pg_catalog;
    REVOKE TEMPORARY ON DATABASE shop FROM PUBLIC; GRANT CREATE ON DATABASE shop TO analysts;
    COMMENT ON DATABASE shop IS 'the shop''s orders';`);
  await pg.query('ALTER TABLE items OWNER TO sales', `it's a "db"`);
  // Table by table, not pg_read_all_data (which reads pg_authid too): this login may not read role passwords.
  for (const db of PG_DATABASES) await pg.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${q(READER.user)}`, db);
  return pg;
}

export async function mariaServerWithDatabases(): Promise<MariaServer> {
  const maria = await startMariadb();
  for (const [i, db] of MARIA_DATABASES.entries()) {
    await maria.query(`CREATE DATABASE ${quoteMariaIdentifier(db)} CHARACTER SET utf8mb4`);
    await maria.query('CREATE TABLE items (id INT PRIMARY KEY, label VARCHAR(64), price DECIMAL(10,2))', db);
    await maria.query(`INSERT INTO items SELECT seq, CONCAT('item ', seq, ' ção'), seq * ${i + 1}.25 FROM seq_1_to_${300 * (i + 1)}`, db);
  }
  await maria.query(`CREATE USER 'sales'@'%' IDENTIFIED BY 'sales pass'`);
  await maria.query(`GRANT SELECT, INSERT ON ${quoteMariaIdentifier('crm')}.* TO 'sales'@'%'`);
  await maria.query(`GRANT SELECT ON ${quoteMariaIdentifier('Vendas 2026 ção')}.items TO 'sales'@'%'`);
  // A role granted to a user as its default, and a column grant that may be passed on: SHOW GRANTS keeps each.
  await maria.query('CREATE ROLE crm_readers');
  await maria.query(`GRANT SELECT ON ${quoteMariaIdentifier('crm')}.* TO crm_readers`);
  await maria.query(`GRANT crm_readers TO 'sales'@'%'`);
  await maria.query(`SET DEFAULT ROLE crm_readers FOR 'sales'@'%'`);
  await maria.query(`CREATE USER 'reporting'@'localhost' IDENTIFIED BY 'reporting pass'`);
  await maria.query(`GRANT SELECT (label) ON ${quoteMariaIdentifier('crm')}.items TO 'reporting'@'localhost' WITH GRANT OPTION`);
  return maria;
}
