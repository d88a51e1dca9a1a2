// "Every database on this server": which databases the patterns pick, the file each one's backup gets,
// and how a globals file is cut into the statements the app runs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { databaseFileStem, globMatches, pickDatabases, pickReason } from '../../shared/databases.js';
import { CONNECTION_CONFIG } from '../../shared/schemas/datasource.js';
import { splitStatements } from '../../electron/core/engines/sql-statements.js';

describe('which databases the patterns pick', () => {
  it('reads * and ? and nothing else as special', () => {
    assert.ok(globMatches('sales_*', 'sales_2027'));
    assert.ok(globMatches('db?', 'db1'));
    assert.ok(!globMatches('db?', 'db12'));
    assert.ok(globMatches('a.b', 'a.b'));
    assert.ok(!globMatches('a.b', 'axb'));
    assert.ok(globMatches('*', 'Vendas 2026 ção'));
    assert.ok(globMatches("it's *", "it's a db/with slash"));
    assert.ok(!globMatches('(a|b)', 'a'));
  });

  it('leaves the system databases out unless an include names one exactly, and keeps postgres', () => {
    const none = { include: [], exclude: [] };
    assert.deepEqual(pickDatabases(['template0', 'template1', 'postgres', 'shop'], none, 'postgres'), ['postgres', 'shop']);
    assert.deepEqual(pickDatabases(['mysql', 'sys', 'information_schema', 'performance_schema', 'crm'], none, 'mysql'), ['crm']);
    assert.equal(pickReason('template1', { include: ['*'], exclude: [] }, 'postgres'), 'system');
    assert.equal(pickReason('mysql', { include: ['mysql'], exclude: [] }, 'mysql'), 'picked');
    assert.equal(pickReason('postgres', { include: [], exclude: ['postgres'] }, 'postgres'), 'excluded');
  });

  it('picks by include, then takes out by exclude', () => {
    const patterns = { include: ['sales_*', 'crm'], exclude: ['*_old'] };
    assert.deepEqual(pickDatabases(['crm', 'sales_2026', 'sales_2025_old', 'hr'], patterns, 'postgres'), ['crm', 'sales_2026']);
    assert.equal(pickReason('hr', patterns, 'postgres'), 'not_included');
    assert.equal(pickReason('sales_2025_old', patterns, 'postgres'), 'excluded');
  });
});

describe('the file each database gets', () => {
  it('keeps a plain name and makes any other safe, distinct and stable', () => {
    assert.equal(databaseFileStem('shop_2026'), 'shop_2026');
    const odd = databaseFileStem('Vendas 2026 ção');
    assert.match(odd, /^Vendas_2026_cao-[0-9a-f]{8}$/);
    assert.equal(databaseFileStem('Vendas 2026 ção'), odd);
    assert.notEqual(databaseFileStem('a b'), databaseFileStem('a_b'));
    for (const hostile of ['../etc', '..', '.', 'a/b', 'a\\b', '-rf', 'x\0y', "it's", '"', '', ' ', 'globals', 'manifest', 'ção'.repeat(200)]) {
      const stem = databaseFileStem(hostile);
      assert.match(stem, /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, `${JSON.stringify(hostile)} → ${stem}`);
    }
  });
});

describe('a server datasource config', () => {
  it('needs no database when it backs up every database, and connects to the maintenance one', () => {
    const base = { host: 'h', username: 'u' };
    assert.equal(CONNECTION_CONFIG.postgres.parse({ ...base, all_databases: true }).database, 'postgres');
    assert.equal(CONNECTION_CONFIG.mariadb.parse({ ...base, all_databases: true }).database, 'information_schema');
    const one = CONNECTION_CONFIG.postgres.safeParse(base);
    assert.ok(!one.success);
    assert.equal(one.error.issues[0]!.message, 'Database is required');
    assert.equal(one.error.issues[0]!.path.join('.'), 'database');
    assert.equal(CONNECTION_CONFIG.postgres.parse({ ...base, database: 'shop' }).all_databases, undefined);
    assert.ok(!CONNECTION_CONFIG.postgres.safeParse({ ...base, all_databases: true, include: [''] }).success);
  });
});

describe('a globals file cut into statements', () => {
  it("splits on ; outside quotes and comments, and skips pg_dumpall's \\restrict lines", () => {
    const sql = `\\restrict abc\nSET x = on;\n-- a; comment\nCREATE ROLE "we;ird" ;\nCOMMENT ON ROLE r IS 'a;\nb';\n/* c; */ALTER ROLE r SET search_path TO 'x''y';\n\\unrestrict abc\n`;
    assert.deepEqual(splitStatements(sql, 'postgres'), [
      'SET x = on',
      'CREATE ROLE "we;ird"',
      "COMMENT ON ROLE r IS 'a;\nb'",
      "ALTER ROLE r SET search_path TO 'x''y'",
    ]);
    assert.deepEqual(splitStatements("GRANT ALL ON `d;b`.* TO 'u\\';x'@'%';\n", 'mysql'), ["GRANT ALL ON `d;b`.* TO 'u\\';x'@'%'"]);
  });
  it('refuses a client command anywhere outside quotes', () => {
    for (const sql of ['\\! touch /tmp/x\n', 'SELECT 1; \\! id\n', 'SELECT 1 \\g\n', "SELECT '\\' ; \\! id", '\\restrictx\n'])
      assert.throws(() => splitStatements(sql, 'postgres'), /client command/, sql);
    assert.throws(() => splitStatements("SELECT 'x", 'postgres'), /never ends/);
  });
});
