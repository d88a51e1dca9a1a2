import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { AppError } from '../../../shared/errors.js';
import type { ConnectionConfig, ServerConnectionConfig } from '../../../shared/schemas/datasource.js';
import { runTool, secretFile, spawnDump } from './process.js';
import { pgTool } from './tools.js';
import type { Engine, EngineOptions, RestoreOptions, SourceInfo, Summary } from './types.js';

const escapePass = (v: string) => v.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

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

/** Runs `work` on a connection to `database`; abort ends the connection, which stops a running query. */
async function withClient<T>(c: ServerConnectionConfig, database: string, signal: AbortSignal, work: (client: pg.Client) => Promise<T>): Promise<T> {
  signal.throwIfAborted();
  const client = pgClient(c, database);
  const end = () => void client.end().catch(() => undefined);
  signal.addEventListener('abort', end, { once: true });
  try {
    await client.connect();
    return await work(client);
  } catch (e) {
    signal.throwIfAborted();
    throw e;
  } finally {
    signal.removeEventListener('abort', end);
    await client.end().catch(() => undefined);
  }
}

/** Creates the target database when asked (an existing one is refused) and returns the server's major version. */
async function prepareTarget(c: ServerConnectionConfig, o: RestoreOptions): Promise<number> {
  return withClient(c, o.createDatabase ? 'postgres' : c.database, o.signal, async (client) => {
    if (o.createDatabase) {
      try {
        await client.query(`CREATE DATABASE ${quoteIdent(c.database)}`);
      } catch (e) {
        // A "new" database that exists holds someone's data, and no safety backup was taken of it.
        if ((e as { code?: string }).code === '42P04') throw new AppError('conflict', `Database ${c.database} already exists: choose a new name, or restore onto the datasource itself`);
        throw e;
      }
      o.log('info', `Created database ${c.database}`);
    }
    const { rows } = await client.query<{ num: string }>("SELECT current_setting('server_version_num') AS num");
    return Math.floor(Number(rows[0]!.num) / 10000);
  });
}

// An archive's table of contents line, e.g. `3351; 0 0 ACL public TABLE orders dg`.
const ACL_ENTRY = /^\d+; \d+ \d+ (?:DEFAULT )?ACL /;

/**
 * pg_restore in two passes: everything but the grants, then the grants. Owners are dropped
 * (--no-owner): the restoring login may not be allowed to become them. Grants are kept, because a
 * restore that silently loses "reporting may read orders" breaks an application later; but a grant to
 * a role this server lacks (a restore onto another server, a restore test) must not fail the data, so
 * grants run apart, through psql, one statement at a time, and their failures are warnings.
 */
async function pgRestore(c: ServerConnectionConfig, major: number, artifactPath: string, o: RestoreOptions): Promise<string> {
  const tool = await pgTool('pg_restore', major, o.toolDirs.postgres);
  const { env, remove } = pgEnv(c, o);
  const files: { remove: () => void }[] = [];
  const tempFile = (content: string) => {
    const f = secretFile(o.tempDir, 'pg-restore', content);
    files.push(f);
    return f.path;
  };
  const connect = ['-h', c.host, '-p', String(c.port), '-U', c.username, '-d', c.database, '--no-password'];
  try {
    const toc = tempFile('');
    await runTool(tool, ['--list', `--file=${toc}`, artifactPath], { signal: o.signal });
    const lines = (await readFile(toc, 'utf8')).split('\n');
    const grants = lines.filter((l) => ACL_ENTRY.test(l));
    const data = lines.map((l) => (ACL_ENTRY.test(l) ? `;${l}` : l));

    const args = [...connect, '--no-owner', '--clean', '--if-exists', '--exit-on-error', `--use-list=${tempFile(data.join('\n'))}`];
    // One job restores in a single transaction: a failure leaves the database as it was. Parallel jobs
    // are faster but cannot share a transaction.
    if (o.parallelJobs > 1) args.push(`--jobs=${o.parallelJobs}`);
    else args.push('--single-transaction');
    o.log('info', `Running ${tool} ${o.parallelJobs > 1 ? `with ${o.parallelJobs} jobs` : 'in one transaction'}`);
    let output = await runTool(tool, [...args, artifactPath], { env, signal: o.signal });

    if (grants.length) {
      try {
        // pg_restore sends an object's grants together, so one missing role would cost the others too.
        const sql = tempFile('');
        await runTool(tool, [`--use-list=${tempFile(grants.join('\n'))}`, `--file=${sql}`, artifactPath], { signal: o.signal });
        const psql = await pgTool('psql', major, o.toolDirs.postgres);
        const said = await runTool(psql, [...connect, '--no-psqlrc', '--quiet', '--set=ON_ERROR_STOP=0', `--file=${sql}`], { env, signal: o.signal });
        const errors = said.split('\n').filter((l) => l.includes('ERROR:')).map((l) => l.replace(/^.*ERROR:\s*/, ''));
        if (errors.length) o.log('warn', `${errors.length} grant(s) of the backup were not restored (the data was): ${errors.slice(0, 5).join('; ')}`);
        output += said;
      } catch (e) {
        // The data is in; grants are restored where they can be, and a missing psql does not undo that.
        o.signal.throwIfAborted();
        o.log('warn', `The backup's grants were not restored (the data was): ${(e as Error).message}`);
      }
    }
    return output;
  } finally {
    remove();
    for (const f of files) f.remove();
  }
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
};
