import type { ServerConnectionConfig } from '../../../../shared/schemas/datasource.js';
import { spawnDump } from '../process.js';
import { readStatements } from '../sql-statements.js';
import type { ServerEngine } from '../types.js';
import { pgEnv, quoteIdent, withClient } from './client.js';
import { recreatePgDatabase } from './server-database.js';
import { pgTool } from './tools.js';

/** A whole PostgreSQL server: its databases, and its roles, memberships and tablespaces (pg_dumpall --globals-only). */
export const postgresServer: ServerEngine = {
  async listDatabases(config, signal) {
    const c = config as ServerConnectionConfig;
    return withClient(c, c.database, signal, async (client) => {
      // pg_database_size needs CONNECT on the database: where the login has none, the size is unknown, not an error.
      const { rows } = await client.query<{ name: string; size: string | null }>(
        `SELECT datname AS name,
                CASE WHEN datallowconn AND has_database_privilege(oid, 'CONNECT') THEN pg_database_size(oid)::text END AS size
           FROM pg_database ORDER BY datname`,
      );
      return rows.map((r) => ({ name: r.name, size_bytes: r.size === null ? null : Number(r.size) }));
    });
  },

  async dumpGlobals(config, options) {
    const c = config as ServerConnectionConfig;
    const { major, passwordsReadable } = await withClient(c, c.database, options.signal, async (client) => {
      const { rows } = await client.query<{ num: string; readable: boolean }>(
        `SELECT current_setting('server_version_num') AS num, has_table_privilege('pg_catalog.pg_authid', 'SELECT') AS readable`,
      );
      return { major: Math.floor(Number(rows[0]!.num) / 10000), passwordsReadable: rows[0]!.readable };
    });
    const tool = await pgTool('pg_dumpall', major, options.toolDirs.postgres);
    const { env, dbname, remove } = pgEnv(c, options);
    // Only a superuser reads pg_authid: anyone else gets the roles without their passwords rather than no globals.
    const args = [dbname(), '--no-password', '--globals-only', ...(passwordsReadable ? [] : ['--no-role-passwords'])];
    const notes = passwordsReadable
      ? []
      : [`Role passwords are not in this backup: ${c.username} may not read them (a superuser can); restored roles need a new password`];
    options.log('info', `Running ${tool} --globals-only (roles, memberships, tablespaces)`);
    return { ...spawnDump(tool, args, { env, signal: options.signal, cleanup: remove }), notes };
  },

  async restoreGlobals(config, sqlPath, options, phase) {
    // Roles and memberships go first, so the databases' owners and grants resolve: nothing is left for after.
    if (phase === 'after') return { engine_output: '' };
    const c = config as ServerConnectionConfig;
    const statements = await readStatements(sqlPath, 'postgres');
    // The login's own role stays as the target has it: the source's password for it would lock the app out.
    const own = new RegExp(`^(CREATE|ALTER) ROLE (${escapeRegExp(c.username)}|${escapeRegExp(quoteIdent(c.username))})(\\s|$)`);
    return withClient(c, c.database, options.signal, async (client) => {
      const kept: string[] = [];
      for (const sql of statements) {
        if (own.test(sql)) continue;
        try {
          await client.query(sql);
        } catch (e) {
          // The login's own role and roles the server already has: kept as they are, as psql would go on past them.
          const code = (e as { code?: string }).code;
          if (code === '42710' || code === '42P04') kept.push((e as Error).message);
          else throw new Error(`${(e as Error).message} (in: ${sql.slice(0, 120)})`);
        }
      }
      if (kept.length) options.log('info', `Kept what the server already had: ${kept.join('; ').slice(0, 2000)}`);
      return { engine_output: `${statements.length} statements of the globals run; ${kept.length} kept as they were` };
    });
  },

  recreateDatabase: (config, artifact, source, options) => recreatePgDatabase(config as ServerConnectionConfig, artifact, source, options),
};

const escapeRegExp = (text: string) => text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
