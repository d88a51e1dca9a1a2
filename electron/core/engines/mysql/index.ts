import mysql from 'mysql2/promise';
import picomatch from 'picomatch';
import type { ConnectionConfig, ServerConnectionConfig } from '../../../../shared/schemas/datasource.js';
import { AppError } from '../../../../shared/errors.js';
import { withConnection } from '../connection.js';
import { withTimeout } from '../probe.js';
import { runTool, secretFile, spawnDump } from '../process.js';
import { databaseTarget } from '../target.js';
import type { BackupEngine, EngineOptions, Inspection, RestoreOptions } from '../types.js';
import { mysqlTool } from './tools.js';

const quoteIdent = (name: string) => `\`${name.replace(/`/g, '``')}\``;

/** `database` null: connected to the server only (to create or drop a database). */
function mysqlConnection(c: ServerConnectionConfig, database: string | null = c.database, timeoutMs = 15_000) {
  return mysql.createConnection({
    host: c.host,
    port: c.port,
    database: database ?? undefined,
    user: c.username,
    password: c.password ?? '',
    connectTimeout: timeoutMs,
    ssl: c.ssl_enabled ? { rejectUnauthorized: false } : undefined,
    multipleStatements: false,
  });
}

interface Tables {
  all: string[];
  chosen: string[];
}

/** Include/exclude globs (`logs_*`) resolved to real table names: mysqldump takes names only. */
function choose(all: string[], options: Pick<EngineOptions, 'includeTables' | 'excludeTables'>): string[] {
  const included = options.includeTables.length ? picomatch(options.includeTables) : () => true;
  const excluded = options.excludeTables.length ? picomatch(options.excludeTables) : () => false;
  return all.filter((t) => included(t) && !excluded(t));
}

async function inspect(config: ConnectionConfig, options: EngineOptions): Promise<Inspection & { tables: Tables; mariadb: boolean }> {
  const c = config as ServerConnectionConfig;
  return withConnection(
    options.signal,
    () => mysqlConnection(c),
    (conn) => conn.end(),
    async (conn) => {
      const [[v]] = (await conn.query('SELECT VERSION() AS version')) as unknown as [[{ version: string }]];
      const [[schema]] = (await conn.query(
        'SELECT DEFAULT_CHARACTER_SET_NAME AS charset, DEFAULT_COLLATION_NAME AS collation FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
        [c.database],
      )) as unknown as [[{ charset: string; collation: string } | undefined]];
      const [rows] = (await conn.query(
        `SELECT TABLE_NAME AS name, COALESCE(TABLE_ROWS, 0) AS rows_, COALESCE(DATA_LENGTH + INDEX_LENGTH, 0) AS bytes
       FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME`,
        [c.database],
      )) as unknown as [{ name: string; rows_: number; bytes: number }[]];
      const all = rows.map((r) => r.name);
      const chosen = choose(all, options);
      const picked = rows.filter((r) => chosen.includes(r.name));
      const mariadb = /mariadb/i.test(v.version);
      return {
        mariadb,
        tables: { all, chosen },
        database_version: `${mariadb ? 'MariaDB' : 'MySQL'} ${v.version.split('-')[0]}`,
        tables_backed_up: chosen.length,
        rows_approximate: picked.reduce((n, r) => n + Number(r.rows_), 0),
        size_estimate_bytes: picked.reduce((n, r) => n + Number(r.bytes), 0),
        database_charset: schema?.charset,
        database_collation: schema?.collation,
      };
    },
  );
}

/** Credentials reach the client through a 0600 --defaults-extra-file, never argv. */
export function mysqlDefaults(c: ServerConnectionConfig, options: Pick<EngineOptions, 'tempDir'>) {
  const quote = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return secretFile(
    options.tempDir,
    'my.cnf',
    `[client]\nhost=${quote(c.host)}\nport=${c.port}\nuser=${quote(c.username)}\npassword=${quote(c.password ?? '')}\n${c.ssl_enabled ? 'ssl=1\n' : ''}`,
  );
}

/** Runs `work` on a connection; abort destroys the connection, which stops a running query. */
const withMysql = <T>(c: ServerConnectionConfig, database: string | null, signal: AbortSignal, work: (conn: mysql.Connection) => Promise<T>) =>
  withConnection(
    signal,
    () => mysqlConnection(c, database),
    (conn) => conn.destroy(),
    work,
  );

// A charset or collation name comes from a manifest, which a hostile storage could write: names only.
const SQL_NAME = /^[A-Za-z0-9_]{1,64}$/;

/** `CHARACTER SET x COLLATE y` of the backed-up database, so a new database sorts and compares as the source did. */
function databaseDefaults(source: RestoreOptions['source']): string {
  const charset = source.database_charset && SQL_NAME.test(source.database_charset) ? ` CHARACTER SET ${source.database_charset}` : '';
  const collation = source.database_collation && SQL_NAME.test(source.database_collation) ? ` COLLATE ${source.database_collation}` : '';
  return charset + collation;
}

/** Creates the target database when asked (an existing one is refused) and says whether the server is MariaDB. */
async function prepareTarget(c: ServerConnectionConfig, o: RestoreOptions): Promise<boolean> {
  return withMysql(c, null, o.signal, async (conn) => {
    const [[v]] = (await conn.query('SELECT VERSION() AS version')) as unknown as [[{ version: string }]];
    if (o.createDatabase) {
      try {
        await conn.query(`CREATE DATABASE ${quoteIdent(c.database)}${databaseDefaults(o.source)}`);
      } catch (e) {
        // Not IF NOT EXISTS: a "new" database that exists holds someone's data, and no safety backup was taken of it.
        if ((e as { errno?: number }).errno === 1007)
          throw new AppError('conflict', `Database ${c.database} already exists: choose a new name, or restore onto the datasource itself`);
        throw e;
      }
      o.log('info', `Created database ${c.database}`);
    }
    return /mariadb/i.test(v.version);
  });
}

export const mysqlEngine: BackupEngine = {
  label: 'MySQL/MariaDB',
  format: 'sql',

  async probe(config, ms) {
    const c = config as ServerConnectionConfig;
    let conn: mysql.Connection | undefined;
    const work = (async () => {
      conn = await mysqlConnection(c, c.database, ms);
      await conn.query('SELECT 1');
      const [rows] = (await conn.query(
        "SELECT VERSION() AS version, (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'UPTIME') AS uptime, (SELECT COUNT(*) FROM information_schema.PROCESSLIST) AS connections",
      )) as unknown as [{ version: string; uptime: string; connections: number }[]];
      const r = rows[0]!;
      const product = /mariadb/i.test(r.version) ? 'MariaDB' : 'MySQL';
      return {
        metadata: {
          database_version: `${product} ${r.version.split('-')[0]}`,
          server_uptime: r.uptime ? `${Math.round(Number(r.uptime) / 3600)} hours` : undefined,
          active_connections: Number(r.connections),
        },
      };
    })();
    try {
      return await withTimeout(work, ms, () => conn?.destroy());
    } finally {
      conn?.destroy();
    }
  },

  async inspect(config, options) {
    const { tables: _t, mariadb: _m, ...info } = await inspect(config, options);
    return info;
  },

  async dump(config, options) {
    const c = config as ServerConnectionConfig;
    const info = await inspect(config, options);
    const tool = await mysqlTool('dump', info.mariadb, options.toolDirs.mysql);
    const defaults = mysqlDefaults(c, options);
    // No --databases: the dump carries no CREATE DATABASE/USE, so it restores into any database name.
    const args = [
      `--defaults-extra-file=${defaults.path}`,
      '--single-transaction',
      '--routines',
      '--triggers',
      '--events',
      '--hex-blob',
      '--quick',
      c.database,
    ];
    const filtered = options.includeTables.length > 0 || options.excludeTables.length > 0;
    if (filtered) {
      if (info.tables.chosen.length === 0) {
        defaults.remove();
        throw new Error("No table matches the job's include/exclude lists: nothing to back up");
      }
      args.push(...info.tables.chosen);
    }
    options.log('info', `Running ${tool}${filtered ? ` on ${info.tables.chosen.length} of ${info.tables.all.length} tables` : ''}`);
    return spawnDump(tool, args, { signal: options.signal, cleanup: defaults.remove });
  },

  async restore(config, artifactPath, options) {
    const c = config as ServerConnectionConfig;
    const mariadb = await prepareTarget(c, options);
    const tool = await mysqlTool('client', mariadb, options.toolDirs.mysql);
    const defaults = mysqlDefaults(c, options);
    // The dump names no database (made without --databases): it lands in the one named here.
    options.log('info', `Running ${tool} into ${c.database}`);
    try {
      const args = [`--defaults-extra-file=${defaults.path}`, '--batch', c.database];
      return { engine_output: await runTool(tool, args, { stdinFile: artifactPath, signal: options.signal }) };
    } finally {
      defaults.remove();
    }
  },

  async summarize(config, { signal }) {
    const c = config as ServerConnectionConfig;
    return withMysql(c, c.database, signal, async (conn) => {
      const [tables] = (await conn.query("SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'", [
        c.database,
      ])) as unknown as [{ name: string }[]];
      let rows = 0;
      // information_schema's TABLE_ROWS is an estimate for InnoDB: each table is counted.
      for (const t of tables) {
        const [[r]] = (await conn.query(`SELECT COUNT(*) AS n FROM ${quoteIdent(t.name)}`)) as unknown as [[{ n: number | string }]];
        rows += Number(r.n);
      }
      return { tables: tables.length, rows };
    });
  },

  target: databaseTarget,

  /** A scratch schema on the backup's own server, when the login may create one. */
  async scratch({ name, sourceConfig, sourceName }) {
    if (!sourceConfig)
      throw new AppError('not_found', 'A restore test of a MySQL/MariaDB backup needs its datasource (the server to create a scratch schema on)');
    const config = { ...(sourceConfig as ServerConnectionConfig), database: name };
    return {
      config,
      description: `scratch schema ${name} on ${sourceName}`,
      createDatabase: true,
      drop: () =>
        withMysql(config, null, new AbortController().signal, (conn) => conn.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`)).then(() => undefined),
    };
  },
};
