import type { ConnectionConfig, ServerConnectionConfig } from '../../../../shared/schemas/datasource.js';
import { withTimeout } from '../probe.js';
import { spawnDump } from '../process.js';
import { databaseTarget } from '../target.js';
import type { BackupEngine, EngineOptions, Inspection, Summary } from '../types.js';
import { pgClient, pgEnv, quoteIdent, withClient } from './client.js';
import { countedSnapshot } from './counts.js';
import { checkFreeSpace, dumpDirectory, unpackedIfDirectory } from './directory.js';
import { pgRestore, planRestore, prepareTarget, type Archive } from './restore.js';
import { pgRestoreTables, pgTableRows } from './tables.js';
import { pgArchiveIndex } from './toc.js';
import { pgTool } from './tools.js';

/** The server's major version and what the backup will hold. */
async function inspect(config: ConnectionConfig, signal: AbortSignal): Promise<Inspection & { major: number; tableBytes: number }> {
  const c = config as ServerConnectionConfig;
  // Nothing here takes a lock on a table (pg_table_size would, and wait behind a session holding one):
  // the tables' size is the planner's page count, and a cancel still ends the query.
  return withClient(c, c.database, signal, async (client) => {
    const { rows } = await client.query<{ num: string; version: string; tables: number; rows: string; size: string; table_bytes: string }>(
      `SELECT current_setting('server_version_num') AS num, current_setting('server_version') AS version,
              (SELECT count(*)::int FROM pg_stat_user_tables) AS tables,
              (SELECT coalesce(sum(n_live_tup), 0)::text FROM pg_stat_user_tables) AS rows,
              pg_database_size(current_database())::text AS size,
              (SELECT (coalesce(sum(c.relpages), 0) * current_setting('block_size')::bigint)::text
                 FROM pg_class c JOIN pg_stat_user_tables t ON t.relid = c.oid) AS table_bytes`,
    );
    const r = rows[0]!;
    return {
      major: Math.floor(Number(r.num) / 10000),
      tableBytes: Number(r.table_bytes),
      database_version: `PostgreSQL ${r.version.split(' ')[0]}`,
      tables_backed_up: r.tables,
      rows_approximate: Number(r.rows),
      size_estimate_bytes: Number(r.size),
    };
  });
}

/** pg_dump -j writes only the directory format: the artifact is a tar of that folder. */
const dumpFormat = (o: Pick<EngineOptions, 'parallelJobs'>) => (o.parallelJobs > 1 ? 'directory' : 'custom');

export const postgresEngine: BackupEngine = {
  label: 'PostgreSQL',
  format: 'dump',
  formatOf: (o) => (dumpFormat(o) === 'directory' ? 'dir.tar' : 'dump'),

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

  async inspect(config, options) {
    const { major: _major, tableBytes: _tableBytes, ...info } = await inspect(config, options.signal);
    return { ...info, dump_format: dumpFormat(options) };
  },

  async dump(config, options) {
    const c = config as ServerConnectionConfig;
    const { major, tableBytes } = await inspect(config, options.signal);
    const tool = await pgTool('pg_dump', major, options.toolDirs.postgres);
    const directory = dumpFormat(options) === 'directory';
    // The folder holds the tables' data uncompressed until each is packed: about their size on disk.
    if (directory) await checkFreeSpace(options.tempDir, tableBytes, `pg_dump with ${options.parallelJobs} parallel jobs`);
    const { env, dbname, remove } = pgEnv(c, options);
    const counted = await countedSnapshot(c, options);
    // Every value is fused to its option (`--table=…`): a pattern like `--file=/x` cannot become an option of its own.
    const args = [dbname(), '--no-password', ...(counted.snapshot ? [`--snapshot=${counted.snapshot}`] : [])];
    if (options.compressedByPipeline) args.push('--compress=0');
    for (const t of options.includeTables) args.push(`--table=${t}`);
    for (const t of options.excludeTables) args.push(`--exclude-table=${t}`);
    const uncompressed = options.compressedByPipeline ? ', uncompressed: DataGuardian compresses' : '';
    if (directory) {
      options.log('info', `Running ${tool} with ${options.parallelJobs} jobs (directory format, packed as one tar${uncompressed})`);
      return dumpDirectory(tool, [...args, `--jobs=${options.parallelJobs}`], { env, tempDir: options.tempDir, signal: options.signal, cleanup: remove }).then(
        counted.around,
        (e: unknown) => {
          remove();
          counted.release();
          throw e;
        },
      );
    }
    options.log('info', `Running ${tool} (custom format${uncompressed})`);
    return counted.around(spawnDump(tool, [...args, '--format=custom'], { env, signal: options.signal, cleanup: remove }));
  },

  contents(config, options) {
    // A -j backup is a tar of pg_dump's folder: its list is not in the stream's head.
    if (dumpFormat(options) === 'directory') return null;
    return pgArchiveIndex(config as ServerConnectionConfig, options, async () => (await inspect(config, options.signal)).major);
  },

  async restore(config, source, options) {
    const c = config as ServerConnectionConfig;
    const unpacked = await unpackedIfDirectory(source, options.tempDir, options.signal);
    try {
      // pg_restore --jobs seeks in its archive: a file. One job reads the backup as it is decoded, with no staging file.
      const archive: Archive = unpacked?.dir ?? (options.parallelJobs > 1 ? await source.file() : () => source.open());
      const { major, ready: plan } = await prepareTarget(c, options, (major) => planRestore(major, archive, options));
      return { engine_output: await pgRestore(c, major, plan, archive, options) };
    } finally {
      await unpacked?.remove();
    }
  },

  tableRows: pgTableRows,
  restoreTables: (config, artifactPath, tables, options) => pgRestoreTables(config as ServerConnectionConfig, artifactPath, tables, options),

  async summarize(config, { signal, estimate }) {
    const c = config as ServerConnectionConfig;
    return withClient(c, c.database, signal, async (client): Promise<Summary> => {
      // Leaf tables only (relkind r): a partitioned parent's count would count its partitions twice.
      const leafTables = `FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind = 'r' AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'`;
      if (estimate) {
        // reltuples is set by CREATE INDEX, VACUUM and ANALYZE (-1: never); a table without any falls back to
        // the statistics collector's count of the rows its COPY inserted.
        const { rows } = await client.query<{ tables: number; rows: string }>(
          `SELECT count(*)::int AS tables,
                  coalesce(sum(CASE WHEN c.reltuples >= 0 THEN c.reltuples ELSE coalesce(pg_stat_get_live_tuples(c.oid), 0) END), 0)::bigint::text AS rows
           ${leafTables}`,
        );
        return { tables: rows[0]!.tables, rows: Number(rows[0]!.rows), estimated: true };
      }
      const { rows: tables } = await client.query<{ schema: string; name: string }>(`SELECT n.nspname AS schema, c.relname AS name ${leafTables}`);
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
