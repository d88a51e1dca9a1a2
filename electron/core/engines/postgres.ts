import pg from 'pg';
import type { ConnectionConfig, ServerConnectionConfig } from '../../../shared/schemas/datasource.js';
import { secretFile, spawnDump } from './process.js';
import { pgTool } from './tools.js';
import type { Engine, EngineOptions, SourceInfo } from './types.js';

const escapePass = (v: string) => v.replace(/\\/g, '\\\\').replace(/:/g, '\\:');

export function pgClient(c: ServerConnectionConfig, database = c.database): pg.Client {
  const client = new pg.Client({
    host: c.host,
    port: c.port,
    database,
    user: c.username,
    password: c.password ?? '',
    ssl: c.ssl_enabled ? { rejectUnauthorized: false } : undefined,
    connectionTimeoutMillis: 15_000,
  });
  client.on('error', () => undefined);
  return client;
}

/** The server's major version and what the backup will hold. */
async function inspect(config: ConnectionConfig): Promise<SourceInfo & { major: number }> {
  const c = config as ServerConnectionConfig;
  const client = pgClient(c);
  await client.connect();
  try {
    const { rows } = await client.query<{ num: string; version: string; tables: number; rows: string; size: string }>(
      `SELECT current_setting('server_version_num') AS num, current_setting('server_version') AS version,
              (SELECT count(*)::int FROM pg_stat_user_tables) AS tables,
              (SELECT coalesce(sum(n_live_tup), 0)::text FROM pg_stat_user_tables) AS rows,
              pg_database_size(current_database())::text AS size`,
    );
    const r = rows[0]!;
    return {
      major: Math.floor(Number(r.num) / 10000),
      database_version: `PostgreSQL ${r.version.split(' ')[0]}`,
      tables_backed_up: r.tables,
      rows_approximate: Number(r.rows),
      size_estimate_bytes: Number(r.size),
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Credentials reach libpq through a 0600 PGPASSFILE, never argv. */
export function pgEnv(c: ServerConnectionConfig, options: Pick<EngineOptions, 'tempDir'>) {
  const pass = secretFile(options.tempDir, 'pgpass', `${c.host}:${c.port}:*:${c.username}:${escapePass(c.password ?? '')}\n`);
  return {
    env: { PGPASSFILE: pass.path, PGSSLMODE: c.ssl_enabled ? 'require' : 'prefer', PGCONNECT_TIMEOUT: '15' },
    remove: pass.remove,
  };
}

export const postgresEngine: Engine = {
  async inspect(config) {
    const { major: _major, ...info } = await inspect(config);
    return info;
  },

  async dump(config, options) {
    const c = config as ServerConnectionConfig;
    const { major } = await inspect(config);
    const tool = await pgTool('pg_dump', major, options.toolDirs.postgres);
    const { env, remove } = pgEnv(c, options);
    const args = ['-h', c.host, '-p', String(c.port), '-U', c.username, '-d', c.database, '--format=custom', '--no-password'];
    if (options.compressedByPipeline) args.push('--compress=0');
    for (const t of options.includeTables) args.push('--table', t);
    for (const t of options.excludeTables) args.push('--exclude-table', t);
    options.log('info', `Running ${tool} (custom format${options.compressedByPipeline ? ', uncompressed: DataGuardian compresses' : ''})`);
    return spawnDump(tool, args, { env, signal: options.signal, cleanup: remove });
  },
};
