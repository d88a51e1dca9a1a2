import type { Connection, SslOptions } from 'mysql2/promise';
import picomatch from 'picomatch';
import type { ConnectionConfig, ServerConnectionConfig } from '../../../../shared/schemas/datasource.js';
import { AppError } from '../../../../shared/errors.js';
import { withConnection } from '../connection.js';
import { withTimeout } from '../probe.js';
import { runTool, secretFile, spawnDump } from '../process.js';
import { fileSource } from '../source.js';
import { databaseTarget } from '../target.js';
import { caFile, sslModeOf, verifies } from '../tls.js';
import type { BackupEngine, EngineOptions, Inspection, RestoreOptions } from '../types.js';
import { findClientCommand } from './commands.js';
import { mysqlRestoreTables, mysqlTableRows } from './tables.js';
import { sqlDumpIndex } from './toc.js';
import { drillChecks, quoteIdent, rowsBesideDump } from './counts.js';
import { hasSandbox, mysqlTool, type MysqlTool } from './tools.js';

/** The driver's TLS options for the datasource's SSL mode (verify-ca: the CA is checked, not the host name). */
function mysqlSsl(c: ServerConnectionConfig): SslOptions | undefined {
  const mode = sslModeOf(c);
  if (mode === 'disable') return undefined;
  if (mode === 'require') return { rejectUnauthorized: false };
  return { ca: c.ssl_ca || undefined, rejectUnauthorized: true, verifyIdentity: mode === 'verify-full' };
}

/** `database` null: connected to the server only (to create or drop a database). */
async function mysqlConnection(c: ServerConnectionConfig, database: string | null = c.database, timeoutMs = 15_000) {
  // Loaded with the first MySQL datasource: a process that backs up only PostgreSQL or folders does not carry it.
  const { default: mysql } = await import('mysql2/promise');
  return mysql.createConnection({
    host: c.host,
    port: c.port,
    database: database ?? undefined,
    user: c.username,
    password: c.password ?? '',
    connectTimeout: timeoutMs,
    ssl: mysqlSsl(c),
    multipleStatements: false,
  });
}

interface Tables {
  all: string[];
  chosen: string[];
  /** The server's row estimate of each chosen table (InnoDB's TABLE_ROWS). */
  estimates: Map<string, number>;
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
        tables: { all, chosen, estimates: new Map(picked.map((r) => [r.name, Number(r.rows_)])) },
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

/** The [client] lines for the SSL mode, as each brand of client reads them. */
function sslOptions(c: ServerConnectionConfig, tool: MysqlTool, ca: string | null): string[] {
  const mode = sslModeOf(c);
  if (!tool.mariadb) {
    const mysqlMode = { disable: 'DISABLED', require: 'REQUIRED', 'verify-ca': 'VERIFY_CA', 'verify-full': 'VERIFY_IDENTITY' }[mode];
    return [`ssl-mode=${mysqlMode}`, ...(ca ? [`ssl-ca=${ca}`] : [])];
  }
  if (mode === 'disable') return ['skip-ssl'];
  // MariaDB's client checks the CA only together with the host name: verify-ca is as strict as verify-full there.
  if (mode === 'require') return ['ssl', 'skip-ssl-verify-server-cert'];
  return ['ssl', `ssl-ca=${ca}`, 'ssl-verify-server-cert'];
}

/** Credentials and TLS settings reach the client through a 0600 --defaults-extra-file in the private temp folder, never argv. */
export function mysqlDefaults(c: ServerConnectionConfig, tool: MysqlTool, options: Pick<EngineOptions, 'tempDir'>) {
  const quote = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const ca = verifies(sslModeOf(c)) ? caFile(c, options.tempDir) : null;
  const lines = ['[client]', `host=${quote(c.host)}`, `port=${c.port}`, `user=${quote(c.username)}`, `password=${quote(c.password ?? '')}`];
  const file = secretFile(options.tempDir, 'my.cnf', [...lines, ...sslOptions(c, tool, ca?.path ?? null), ''].join('\n'));
  return {
    path: file.path,
    remove: () => {
      file.remove();
      ca?.remove();
    },
  };
}

/** Runs `work` on a connection; abort destroys the connection, which stops a running query. */
export const withMysql = <T>(c: ServerConnectionConfig, database: string | null, signal: AbortSignal, work: (conn: Connection) => Promise<T>) =>
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
    let conn: Connection | undefined;
    const work = (async () => {
      conn = await mysqlConnection(c, c.database, ms);
      await conn.query('SELECT 1');
      const [rows] = (await conn.query(
        "SELECT VERSION() AS version, (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'UPTIME') AS uptime, (SELECT COUNT(*) FROM information_schema.PROCESSLIST) AS connections, (SELECT COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()) AS size",
      )) as unknown as [{ version: string; uptime: string; connections: number; size: string | number }[]];
      const r = rows[0]!;
      const product = /mariadb/i.test(r.version) ? 'MariaDB' : 'MySQL';
      return {
        metadata: {
          database_version: `${product} ${r.version.split('-')[0]}`,
          server_uptime: r.uptime ? `${Math.round(Number(r.uptime) / 3600)} hours` : undefined,
          active_connections: Number(r.connections),
          database_size_bytes: Number(r.size),
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
    const { tables, mariadb: _m, ...info } = await inspect(config, options);
    return { ...info, table_rows: await rowsBesideDump(() => mysqlConnection(config as ServerConnectionConfig), tables.estimates, options) };
  },

  async dump(config, options) {
    const c = config as ServerConnectionConfig;
    const info = await inspect(config, options);
    const tool = await mysqlTool('dump', info.mariadb, options.toolDirs.mysql);
    const defaults = mysqlDefaults(c, tool, options);
    // No --databases: the dump carries no CREATE DATABASE/USE, so it restores into any database name.
    // `--` ends the options: a database or table named `--host=evil.example` is a name.
    const args = [
      `--defaults-extra-file=${defaults.path}`,
      '--single-transaction',
      '--routines',
      '--triggers',
      '--events',
      '--hex-blob',
      '--quick',
      '--',
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
    options.log('info', `Running ${tool.path}${filtered ? ` on ${info.tables.chosen.length} of ${info.tables.all.length} tables` : ''}`);
    return spawnDump(tool.path, args, { signal: options.signal, cleanup: defaults.remove });
  },

  async restore(config, source, options) {
    const c = config as ServerConnectionConfig;
    const mariadb = await prepareTarget(c, options);
    const tool = await mysqlTool('client', mariadb, options.toolDirs.mysql);
    // A backup may come from a shared bucket: the client must not run its shell, file or connect commands.
    const sandbox = await hasSandbox(tool.path);
    // Without a sandbox the whole dump is searched before the target is touched: it must be a file.
    const artifactPath = sandbox ? null : await source.file();
    if (artifactPath) {
      const command = await findClientCommand(artifactPath);
      if (command) {
        throw new AppError(
          'damaged',
          `This backup holds a mysql client command at line ${command.line} (${command.text.trim().slice(0, 80)}), which could run programs on this computer: ` +
            `it was not restored. Update the MariaDB/MySQL client to a version with --sandbox (MariaDB 10.11.8, MySQL 8.0.37 or later) to restore its SQL without running such commands.`,
        );
      }
    }
    const defaults = mysqlDefaults(c, tool, options);
    // The dump names no database (made without --databases): it lands in the one named here.
    options.log('info', `Running ${tool.path} into ${c.database}${sandbox ? ' (sandbox mode: no client commands)' : ''}`);
    try {
      // No LOAD DATA LOCAL: a dump must not send this computer's files to the server.
      const args = [`--defaults-extra-file=${defaults.path}`, '--batch', '--local-infile=0', ...(sandbox ? ['--sandbox'] : []), '--', c.database];
      const stdin = artifactPath ? fileSource(artifactPath).open() : source.open();
      return { engine_output: await runTool(tool.path, args, { stdin, signal: options.signal }) };
    } finally {
      defaults.remove();
    }
  },

  tableRows: mysqlTableRows,

  restoreTables(config, artifactPath, tables, options) {
    const c = config as ServerConnectionConfig;
    return mysqlRestoreTables(artifactPath, tables, options, {
      restoreSql: (file) => mysqlEngine.restore(config, fileSource(file), options),
      tables: () =>
        withMysql(c, c.database, options.signal, async (conn) => {
          const [rows] = (await conn.query('SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [c.database])) as unknown as [
            { name: string }[],
          ];
          return new Set(rows.map((r) => r.name));
        }),
    });
  },

  contents(config, options) {
    const index = sqlDumpIndex();
    return {
      observe: index.observe,
      // The server's row estimates and sizes, read once the dump has ended: a help for choosing, not a count.
      async finish() {
        const c = config as ServerConnectionConfig;
        const found = await index.finish();
        const sizes = await withConnection(
          options.signal,
          () => mysqlConnection(c),
          (conn) => conn.end(),
          async (conn) =>
            (
              (await conn.query(
                'SELECT TABLE_NAME AS name, TABLE_ROWS AS rows_, DATA_LENGTH + INDEX_LENGTH AS bytes FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?',
                [c.database],
              )) as unknown as [{ name: string; rows_: number | null; bytes: number | null }[]]
            )[0],
        ).catch(() => []);
        const byName = new Map(sizes.map((r) => [r.name, r]));
        return {
          ...found,
          tables: found.tables!.map((t) => {
            const s = t.kind === 'TABLE' ? byName.get(t.name) : undefined;
            return s ? { ...t, rows: s.rows_ === null ? null : Number(s.rows_), bytes: s.bytes === null ? null : Number(s.bytes) } : t;
          }),
        };
      },
    };
  },

  async summarize(config, { signal, estimate }) {
    const c = config as ServerConnectionConfig;
    return withMysql(c, c.database, signal, async (conn) => {
      const [tables] = (await conn.query(
        "SELECT TABLE_NAME AS name, TABLE_ROWS AS estimate FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'",
        [c.database],
      )) as unknown as [{ name: string; estimate: number | string | null }[]];
      // TABLE_ROWS is InnoDB's estimate (it may be off by half): good enough to say what a restore brought, not to check it.
      if (estimate) return { tables: tables.length, rows: tables.reduce((n, t) => n + Number(t.estimate ?? 0), 0), estimated: true };
      let rows = 0;
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

/** A drill's checks of a scratch schema on the backup's own server. */
export const mysqlDrill = drillChecks((c) => mysqlConnection(c));
