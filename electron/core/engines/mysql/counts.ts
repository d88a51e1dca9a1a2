import type { Connection } from 'mysql2/promise';
import type { TableRows } from '../../../../shared/schemas/drill.js';
import { withConnection } from '../connection.js';
import type { ConnectionConfig, ServerConnectionConfig } from '../../../../shared/schemas/datasource.js';
import type { DrillChecks, EngineOptions } from '../types.js';

export const quoteIdent = (name: string) => `\`${name.replace(/`/g, '``')}\``;

/** A table InnoDB thinks bigger than this is not counted at backup time: its rows are the server's estimate. */
const COUNTED_UP_TO = 1_000_000;

/**
 * Rows per table for a later drill. mysqldump's snapshot (--single-transaction) cannot be shared, so these
 * are counted in a consistent snapshot of their own taken beside it, and labelled estimates: a write between
 * the two moments makes them differ. Counting is a help for drills: when it fails the backup goes on without.
 */
export async function rowsBesideDump(
  open: () => Promise<Connection>,
  estimates: Map<string, number>,
  options: EngineOptions,
): Promise<TableRows[] | undefined> {
  try {
    return await withConnection(
      options.signal,
      open,
      (conn) => conn.destroy(),
      async (conn) => {
        await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
        const out: TableRows[] = [];
        for (const [table, estimate] of estimates) {
          if (estimate > COUNTED_UP_TO) {
            out.push({ table, rows: estimate, estimated: true });
            continue;
          }
          const [[r]] = (await conn.query(`SELECT COUNT(*) AS n FROM ${quoteIdent(table)}`)) as unknown as [[{ n: number | string }]];
          out.push({ table, rows: Number(r.n), estimated: true });
        }
        await conn.query('COMMIT');
        return out;
      },
    );
  } catch (e) {
    options.signal.throwIfAborted();
    options.log('warn', `Row counts are not recorded with this backup: ${(e as Error).message}`);
    return undefined;
  }
}

/** Each table's exact row count on an open connection to the database `database`. */
export async function countTables(conn: Connection, database: string): Promise<Map<string, number>> {
  const [tables] = (await conn.query("SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'", [
    database,
  ])) as unknown as [{ name: string }[]];
  const counts = new Map<string, number>();
  for (const t of tables) {
    const [[r]] = (await conn.query(`SELECT COUNT(*) AS n FROM ${quoteIdent(t.name)}`)) as unknown as [[{ n: number | string }]];
    counts.set(t.name, Number(r.n));
  }
  return counts;
}

/**
 * A drill's checks of a scratch schema: CHECK TABLE on every table, and the job's assertions in a read-only
 * transaction (one statement: the connection refuses several).
 */
export function drillChecks(open: (c: ServerConnectionConfig) => Promise<Connection>): DrillChecks {
  const on = <T>(config: ConnectionConfig, signal: AbortSignal, work: (conn: Connection, database: string) => Promise<T>) => {
    const c = config as ServerConnectionConfig;
    return withConnection(
      signal,
      () => open(c),
      (conn) => conn.destroy(),
      (conn) => work(conn, c.database),
    );
  };
  return {
    tableRows: (config, signal) => on(config, signal, countTables),
    integrity: (config, signal) =>
      on(config, signal, async (conn, database) => {
        const tables = [...(await countTables(conn, database)).keys()];
        for (const t of tables) {
          const [rows] = (await conn.query(`CHECK TABLE ${quoteIdent(t)}`)) as unknown as [{ Msg_type: string; Msg_text: string }[]];
          const bad = rows.find((r) => r.Msg_type.toLowerCase() === 'error' || (r.Msg_type.toLowerCase() === 'status' && r.Msg_text !== 'OK'));
          if (bad) return { check: 'CHECK TABLE', ok: false, detail: `${t}: ${bad.Msg_text}` };
        }
        return { check: 'CHECK TABLE', ok: true, detail: `${tables.length} table${tables.length === 1 ? '' : 's'}: OK` };
      }),
    assert: (config, sql, signal) =>
      on(config, signal, async (conn) => {
        await conn.query('START TRANSACTION READ ONLY');
        try {
          const [rows] = (await conn.query({ sql, rowsAsArray: true })) as unknown as [unknown[][]];
          return Array.isArray(rows) ? rows[0]?.[0] : undefined;
        } finally {
          await conn.query('ROLLBACK');
        }
      }),
  };
}
