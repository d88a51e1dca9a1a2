import type pg from 'pg';
import type { ServerConnectionConfig } from '../../../../shared/schemas/datasource.js';
import type { DrillChecks } from '../types.js';
import { quoteIdent, withClient } from './client.js';
import { LEAF_TABLES, tableName } from './counts.js';

/** Assertions run as this role: it reads the scratch database's tables and nothing of the server (no files, no programs). */
const READER = 'dg_drill_reader';
/** A job's assertion that runs longer than this is stopped and fails. */
const ASSERTION_TIMEOUT_MS = 5 * 60_000;

const tablesOf = (client: Parameters<Parameters<typeof withClient>[3]>[0]) =>
  client.query<{ schema: string; name: string }>(`SELECT n.nspname AS schema, c.relname AS name ${LEAF_TABLES} ORDER BY 1, 2`).then((r) => r.rows);

/** A drill's checks of a scratch database on DataGuardian's own PostgreSQL. */
export const postgresDrill: DrillChecks = {
  async tableRows(config, signal) {
    const c = config as ServerConnectionConfig;
    return withClient(c, c.database, signal, async (client) => {
      const counts = new Map<string, number>();
      for (const t of await tablesOf(client)) {
        const r = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${quoteIdent(t.schema)}.${quoteIdent(t.name)}`);
        counts.set(tableName(t.schema, t.name), Number(r.rows[0]!.n));
      }
      return counts;
    });
  },

  /** amcheck's bt_index_check on every B-tree index where the extension is available; otherwise every value of every table read. */
  async integrity(config, signal) {
    const c = config as ServerConnectionConfig;
    return withClient(c, c.database, signal, async (client) => {
      const amcheck = await client
        .query('CREATE EXTENSION IF NOT EXISTS amcheck')
        .then(() => true)
        .catch(() => false);
      if (amcheck) {
        const { rows } = await client.query<{ index: string }>(
          `SELECT format('%I.%I', n.nspname, i.relname) AS index FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
             JOIN pg_namespace n ON n.oid = i.relnamespace JOIN pg_am a ON a.oid = i.relam
           WHERE a.amname = 'btree' AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'`,
        );
        for (const r of rows) {
          try {
            await client.query('SELECT bt_index_check($1::regclass, true)', [r.index]);
          } catch (e) {
            return { check: 'amcheck', ok: false, detail: `${r.index}: ${(e as Error).message}` };
          }
        }
        return { check: 'amcheck', ok: true, detail: `${rows.length} B-tree index${rows.length === 1 ? '' : 'es'} checked against their tables` };
      }
      // Every value detoasted and read: a damaged page or TOAST chunk fails here.
      const tables = await tablesOf(client);
      for (const t of tables) {
        try {
          await client.query(`SELECT sum(length(t::text)) FROM ${quoteIdent(t.schema)}.${quoteIdent(t.name)} t`);
        } catch (e) {
          return { check: 'a full read of every table', ok: false, detail: `${tableName(t.schema, t.name)}: ${(e as Error).message}` };
        }
      }
      return {
        check: 'a full read of every table',
        ok: true,
        detail: `${tables.length} table${tables.length === 1 ? '' : 's'} read (amcheck is not available)`,
      };
    });
  },

  async assert(config, sql, signal) {
    const c = config as ServerConnectionConfig;
    // A superuser (the embedded server's) could read files or run programs from a SELECT: the assertion gets a role that cannot.
    const asReader = await withClient(c, c.database, signal, async (client) => {
      const su = await client.query<{ su: boolean }>('SELECT rolsuper AS su FROM pg_roles WHERE rolname = current_user');
      if (!su.rows[0]?.su) return false;
      await client.query(`DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${READER}') THEN CREATE ROLE ${READER} NOLOGIN; END IF; END $$`);
      const schemas = (await client.query<{ schema: string }>(`SELECT DISTINCT n.nspname AS schema ${LEAF_TABLES}`)).rows.map((r) => quoteIdent(r.schema));
      for (const s of schemas) await client.query(`GRANT USAGE ON SCHEMA ${s} TO ${READER}; GRANT SELECT ON ALL TABLES IN SCHEMA ${s} TO ${READER}`);
      return true;
    });
    return withClient(c, c.database, signal, async (client) => {
      await client.query('BEGIN READ ONLY');
      if (asReader) await client.query(`SET LOCAL ROLE ${READER}`);
      await client.query(`SET LOCAL statement_timeout = ${ASSERTION_TIMEOUT_MS}`);
      // The extended protocol runs exactly one statement: no "; rollback; reset role; …" can leave the read-only transaction.
      const result = await client.query({ text: sql, rowMode: 'array', queryMode: 'extended' } as pg.QueryConfig & { queryMode: 'extended' });
      await client.query('ROLLBACK');
      return (result.rows[0] as unknown[] | undefined)?.[0];
    });
  },
};
