import mysql from 'mysql2/promise';
import picomatch from 'picomatch';
import type { ConnectionConfig, ServerConnectionConfig } from '../../../shared/schemas/datasource.js';
import { secretFile, spawnDump } from './process.js';
import { mysqlTool } from './tools.js';
import type { Engine, EngineOptions, SourceInfo } from './types.js';

/** `database` null: connected to the server only (to create or drop a database). */
export async function mysqlConnection(c: ServerConnectionConfig, database: string | null = c.database) {
  return mysql.createConnection({
    host: c.host,
    port: c.port,
    database: database ?? undefined,
    user: c.username,
    password: c.password ?? '',
    connectTimeout: 15_000,
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

async function inspect(config: ConnectionConfig, options: EngineOptions): Promise<SourceInfo & { tables: Tables; mariadb: boolean }> {
  const c = config as ServerConnectionConfig;
  const conn = await mysqlConnection(c);
  try {
    const [[v]] = (await conn.query('SELECT VERSION() AS version')) as unknown as [[{ version: string }]];
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
    };
  } finally {
    await conn.end().catch(() => undefined);
  }
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

export const mysqlEngine: Engine = {
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
    const args = [`--defaults-extra-file=${defaults.path}`, '--single-transaction', '--routines', '--triggers', '--events', '--hex-blob', '--quick', c.database];
    const filtered = options.includeTables.length > 0 || options.excludeTables.length > 0;
    if (filtered) {
      if (info.tables.chosen.length === 0) {
        defaults.remove();
        throw new Error('No table matches the job\'s include/exclude lists: nothing to back up');
      }
      args.push(...info.tables.chosen);
    }
    options.log('info', `Running ${tool}${filtered ? ` on ${info.tables.chosen.length} of ${info.tables.all.length} tables` : ''}`);
    return spawnDump(tool, args, { signal: options.signal, cleanup: defaults.remove });
  },
};
