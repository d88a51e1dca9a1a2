import { Readable } from 'node:stream';
import type { Connection } from 'mysql2/promise';
import { AppError } from '../../../../shared/errors.js';
import { counted } from '../../../../shared/format.js';
import type { ServerConnectionConfig } from '../../../../shared/schemas/datasource.js';
import { readStatements } from '../sql-statements.js';
import type { ServerEngine } from '../types.js';
import { withMysql } from './index.js';

/** The server's own accounts: recreated by its installer, never by a restore. */
const SYSTEM_USERS = new Set(['root', 'mariadb.sys', 'mysql.sys', 'mysql.session', 'mysql.infoschema']);

const quoteString = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

type Rows<T> = [T[]];

/** The accounts to back up, MariaDB's roles apart (they have no CREATE USER of their own). */
async function accounts(conn: Connection): Promise<{ user: string; host: string }[]> {
  const query = async (sql: string) => ((await conn.query(sql)) as unknown as Rows<{ user: string; host: string }>)[0];
  let rows: { user: string; host: string }[];
  try {
    rows = await query("SELECT User AS user, Host AS host FROM mysql.user WHERE is_role <> 'Y'");
  } catch (e) {
    // MySQL has no is_role column; a login without SELECT on mysql.user is told what it needs.
    if ((e as { errno?: number }).errno !== 1054) throw readRefused(e);
    rows = await query('SELECT User AS user, Host AS host FROM mysql.user').catch((err: unknown) => {
      throw readRefused(err);
    });
  }
  return rows.filter((r) => r.user !== '' && !SYSTEM_USERS.has(r.user)).sort((a, b) => `${a.user}@${a.host}`.localeCompare(`${b.user}@${b.host}`));
}

/** MariaDB's roles (CREATE ROLE, granted to users); none on MySQL, whose roles are accounts listed with them. */
async function roles(conn: Connection): Promise<string[]> {
  try {
    const [rows] = (await conn.query("SELECT User AS user FROM mysql.user WHERE is_role = 'Y' ORDER BY User")) as unknown as Rows<{ user: string }>;
    return rows.map((r) => r.user);
  } catch (e) {
    if ((e as { errno?: number }).errno === 1054) return [];
    throw readRefused(e);
  }
}

/** One role's CREATE ROLE (IF NOT EXISTS: a role the server has is kept) and its grants. */
async function roleStatements(conn: Connection, role: string): Promise<string[]> {
  const name = `\`${role.replace(/`/g, '``')}\``;
  const [grants] = (await conn.query(`SHOW GRANTS FOR ${name}`)) as unknown as Rows<Record<string, string>>;
  return [`CREATE ROLE IF NOT EXISTS ${name}`, ...grants.map((g) => Object.values(g)[0] ?? '')].filter(Boolean);
}

const readRefused = (e: unknown) =>
  new AppError('unauthorized', `The users and grants could not be read (${(e as Error).message}): the login needs SELECT on mysql.user`);

/** One account's CREATE USER (IF NOT EXISTS: an account the server has is kept) and its grants. */
async function accountStatements(conn: Connection, user: string, host: string): Promise<string[]> {
  const account = `${quoteString(user)}@${quoteString(host)}`;
  const [created] = (await conn.query(`SHOW CREATE USER ${account}`)) as unknown as Rows<Record<string, string>>;
  const [grants] = (await conn.query(`SHOW GRANTS FOR ${account}`)) as unknown as Rows<Record<string, string>>;
  const create = Object.values(created[0] ?? {})[0] ?? '';
  return [create.replace(/^CREATE USER /, 'CREATE USER IF NOT EXISTS '), ...grants.map((g) => Object.values(g)[0] ?? '')].filter(Boolean);
}

/** A whole MySQL/MariaDB server: its schemas, and its users with their grants (SHOW CREATE USER, SHOW GRANTS). */
export const mysqlServer: ServerEngine = {
  async listDatabases(config, signal) {
    const c = config as ServerConnectionConfig;
    return withMysql(c, null, signal, async (conn) => {
      const [rows] = (await conn.query(
        `SELECT s.SCHEMA_NAME AS name,
                (SELECT COALESCE(SUM(t.DATA_LENGTH + t.INDEX_LENGTH), 0) FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = s.SCHEMA_NAME) AS size
           FROM information_schema.SCHEMATA s ORDER BY s.SCHEMA_NAME`,
      )) as unknown as Rows<{ name: string; size: string | number | null }>;
      return rows.map((r) => ({ name: r.name, size_bytes: r.size === null ? null : Number(r.size) }));
    });
  },

  async dumpGlobals(config, options) {
    const c = config as ServerConnectionConfig;
    options.log('info', 'Reading the users and their grants (SHOW CREATE USER, SHOW GRANTS)');
    const text = await withMysql(c, null, options.signal, async (conn) => {
      const lines = ['-- Roles, users and grants of the server, as DataGuardian read them. Run with: mariadb < globals.sql', ''];
      // Roles first: a user's grants name them.
      for (const role of await roles(conn)) lines.push(`-- role ${role}`, ...(await roleStatements(conn, role)).map((s) => `${s};`), '');
      const users = await accounts(conn);
      for (const { user, host } of users) {
        lines.push(`-- ${user}@${host}`, ...(await accountStatements(conn, user, host)).map((s) => `${s};`), '');
      }
      return { sql: lines.join('\n'), count: users.length };
    });
    return {
      stream: Readable.from([Buffer.from(text.sql, 'utf8')]),
      finished: Promise.resolve({ engine_output: `${counted(text.count, 'user')} with their grants` }),
      notes: [],
    };
  },

  async restoreGlobals(config, sqlPath, options, phase) {
    const c = config as ServerConnectionConfig;
    // The users and roles before the databases; their grants after, since a grant on a table needs the table, and
    // a user's default role after the grant of that role.
    // The login's own account stays as the target has it: the source's password for it would lock the app out.
    const own = `\`${c.username.replace(/`/g, '``')}\`@`;
    const ownAccount = (sql: string) => sql.includes(`USER IF NOT EXISTS ${own}`) || sql.includes(` TO ${own}`) || sql.includes(` FOR ${own}`);
    const afterTables = (sql: string) => /^(GRANT|SET DEFAULT ROLE)\s/i.test(sql);
    const statements = (await readStatements(sqlPath, 'mysql')).filter((sql) => !ownAccount(sql) && afterTables(sql) === (phase === 'after'));
    return withMysql(c, null, options.signal, async (conn) => {
      for (const sql of statements) {
        try {
          await conn.query(sql);
        } catch (e) {
          throw new Error(`${(e as Error).message} (in: ${sql.slice(0, 120)})`);
        }
      }
      return { engine_output: `${counted(statements.length, 'statement')} of the ${phase === 'before' ? 'users' : 'grants'} run` };
    });
  },
};
