import { AppError } from '../../../../shared/errors.js';
import type { ServerConnectionConfig } from '../../../../shared/schemas/datasource.js';
import { pgClient, pgEnv } from '../../engines/postgres.js';
import { pgTool } from '../../engines/tools.js';
import { runTool } from './tool.js';
import type { Restorer } from './types.js';

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

async function withClient<T>(c: ServerConnectionConfig, database: string, fn: (client: ReturnType<typeof pgClient>) => Promise<T>): Promise<T> {
  const client = pgClient(c, database);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const postgresRestorer: Restorer = {
  async restore(config, artifactPath, o) {
    const c = config as ServerConnectionConfig;
    const major = await withClient(c, 'postgres', async (client) => {
      if (o.createDatabase) {
        const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [c.database]);
        if (rowCount) throw new AppError('conflict', `Database ${c.database} already exists: choose a new name, or restore onto the datasource itself`);
        await client.query(`CREATE DATABASE ${quoteIdent(c.database)}`);
        o.log('info', `Created database ${c.database}`);
      }
      const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
      return Math.floor(Number(rows[0]!.v) / 10000);
    });
    const tool = await pgTool('pg_restore', major, o.toolDirs.postgres);
    const { env, remove } = pgEnv(c, o);
    const args = ['-h', c.host, '-p', String(c.port), '-U', c.username, '-d', c.database, '--no-password', '--clean', '--if-exists', '--no-owner'];
    // One job restores in a single transaction: a failure leaves the database as it was. Parallel jobs
    // are faster but cannot share a transaction.
    if (o.parallelJobs > 1) args.push(`--jobs=${o.parallelJobs}`);
    else args.push('--single-transaction', '--exit-on-error');
    args.push(artifactPath);
    o.log('info', `Running ${tool} ${o.parallelJobs > 1 ? `with ${o.parallelJobs} jobs` : 'in one transaction'}`);
    try {
      return { engine_output: await runTool(tool, args, { env, signal: o.signal }) };
    } finally {
      remove();
    }
  },

  async summarize(config) {
    const c = config as ServerConnectionConfig;
    return withClient(c, c.database, async (client) => {
      const { rows: tables } = await client.query<{ schema: string; name: string }>(
        `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'`,
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
