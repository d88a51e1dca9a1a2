import type { Connection } from 'mysql2/promise';
import type { TableRows } from '../../../../shared/schemas/drill.js';
import { withConnection } from '../connection.js';
import type { EngineOptions } from '../types.js';

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
