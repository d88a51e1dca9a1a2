import type { ConnectionConfig, ServerConnectionConfig } from '../../../../shared/schemas/datasource.js';
import { withTimeout } from '../probe.js';
import { spawnDump } from '../process.js';
import { databaseTarget } from '../target.js';
import type { BackupEngine, Inspection, Summary } from '../types.js';
import { pgClient, pgEnv, quoteIdent, withClient } from './client.js';
import { pgRestore, prepareTarget } from './restore.js';
import { pgTool } from './tools.js';

/** The server's major version and what the backup will hold. */
async function inspect(config: ConnectionConfig): Promise<Inspection & { major: number }> {
  const c = config as ServerConnectionConfig;
  return withClient(c, c.database, new AbortController().signal, async (client) => {
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
  });
}

export const postgresEngine: BackupEngine = {
  label: 'PostgreSQL',
  format: 'dump',

  async probe(config, ms) {
    const c = config as ServerConnectionConfig;
    const client = pgClient(c, c.database, ms);
    try {
      return await withTimeout(
        (async () => {
          await client.connect();
          await client.query('SELECT 1');
          const { rows } = await client.query<{ version: string; uptime: string; connections: number; size: string }>(
            `SELECT current_setting('server_version') AS version,
                    date_trunc('second', now() - pg_postmaster_start_time())::text AS uptime,
                    (SELECT count(*)::int FROM pg_stat_activity) AS connections,
                    pg_database_size(current_database())::text AS size`,
          );
          const r = rows[0]!;
          return {
            metadata: {
              database_version: `PostgreSQL ${r.version.split(' ')[0]}`,
              server_uptime: r.uptime,
              active_connections: r.connections,
              database_size_bytes: Number(r.size),
            },
          };
        })(),
        ms,
        () => void client.end().catch(() => undefined),
      );
    } finally {
      await client.end().catch(() => undefined);
    }
  },

  async inspect(config) {
    const { major: _major, ...info } = await inspect(config);
    return info;
  },

  async dump(config, options) {
    const c = config as ServerConnectionConfig;
    const { major } = await inspect(config);
    const tool = await pgTool('pg_dump', major, options.toolDirs.postgres);
    const { env, dbname, remove } = pgEnv(c, options);
    // Every value is fused to its option (`--table=…`): a pattern like `--file=/x` cannot become an option of its own.
    const args = [dbname(), '--format=custom', '--no-password'];
    if (options.compressedByPipeline) args.push('--compress=0');
    for (const t of options.includeTables) args.push(`--table=${t}`);
    for (const t of options.excludeTables) args.push(`--exclude-table=${t}`);
    options.log('info', `Running ${tool} (custom format${options.compressedByPipeline ? ', uncompressed: DataGuardian compresses' : ''})`);
    return spawnDump(tool, args, { env, signal: options.signal, cleanup: remove });
  },

  async restore(config, artifactPath, options) {
    const c = config as ServerConnectionConfig;
    const major = await prepareTarget(c, options);
    return { engine_output: await pgRestore(c, major, artifactPath, options) };
  },

  async summarize(config, { signal }) {
    const c = config as ServerConnectionConfig;
    return withClient(c, c.database, signal, async (client): Promise<Summary> => {
      // Leaf tables only (relkind r): a partitioned parent's count would count its partitions twice.
      const { rows: tables } = await client.query<{ schema: string; name: string }>(
        `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind = 'r' AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'`,
      );
      let rows = 0;
      for (const t of tables) {
        const r = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteIdent(t.schema)}.${quoteIdent(t.name)}`);
        rows += Number(r.rows[0]!.n);
      }
      return { tables: tables.length, rows };
    });
  },

  target: databaseTarget,

  /** A throwaway database on DataGuardian's own PostgreSQL (embedded by default): the user's server is not touched. */
  async scratch({ name, metadataUrl }) {
    const url = new URL(metadataUrl);
    const config: ServerConnectionConfig = {
      host: url.hostname,
      port: Number(url.port || 5432),
      database: name,
      username: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      ssl_mode: 'disable',
    };
    return {
      config,
      description: `database ${name} on DataGuardian's own PostgreSQL`,
      createDatabase: true,
      drop: () =>
        withClient(config, 'postgres', new AbortController().signal, (client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`)).then(
          () => undefined,
        ),
    };
  },
};
