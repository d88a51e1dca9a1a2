import picomatch from 'picomatch';
import type { ServerConnectionConfig } from '../../../../shared/schemas/datasource.js';
import type { TableRows } from '../../../../shared/schemas/drill.js';
import type { Dump, EngineOptions } from '../types.js';
import { pgClient, quoteIdent } from './client.js';

/** A table the planner thinks bigger than this is not counted at backup time (a count reads all of it): its rows are the estimate. */
const COUNTED_UP_TO = 5_000_000;

/** User tables holding rows (leaf tables: a partitioned parent's rows are its partitions'). */
export const LEAF_TABLES = `FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind = 'r' AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'`;

/** `schema.table`, as recorded at backup time and counted again by a drill. */
export const tableName = (schema: string, name: string) => `${schema}.${name}`;

/** pg_dump's -t / -T patterns, read as globs on `table` or `schema.table` (close enough for which tables to count). */
function chosen(options: Pick<EngineOptions, 'includeTables' | 'excludeTables'>) {
  const match = (patterns: string[]) => {
    const m = picomatch(patterns);
    return (schema: string, name: string) => m(name) || m(tableName(schema, name));
  };
  const included = options.includeTables.length ? match(options.includeTables) : () => true;
  const excluded = options.excludeTables.length ? match(options.excludeTables) : () => false;
  return (schema: string, name: string) => included(schema, name) && !excluded(schema, name);
}

export interface CountedSnapshot {
  /** For pg_dump's --snapshot: the dump then reads exactly the rows counted. Null when the server could not export one. */
  snapshot: string | null;
  /** Adds the counts to what the dump reports once it finished, and ends the snapshot's transaction. */
  around(dump: Dump): Dump;
  /** Ends the snapshot's transaction (a dump that could not start). */
  release(): void;
}

/**
 * Opens a read-only REPEATABLE READ transaction, exports its snapshot for pg_dump and counts each table in
 * it while the dump runs: the counts are of exactly what the dump holds. Tables too big to count cheaply get
 * the planner's estimate, labelled so. Counting is a help for drills: when it fails the backup goes on without.
 */
export async function countedSnapshot(c: ServerConnectionConfig, options: EngineOptions): Promise<CountedSnapshot> {
  const client = pgClient(c, c.database);
  const end = () => void client.end().catch(() => undefined);
  let snapshot: string | null = null;
  try {
    await client.connect();
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    snapshot = (await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0]!.id;
  } catch (e) {
    options.log('warn', `Row counts are not recorded with this backup (the server could not export a snapshot: ${(e as Error).message})`);
    end();
    return { snapshot: null, around: (dump) => dump, release: () => undefined };
  }
  options.signal.addEventListener('abort', end, { once: true });
  const release = () => {
    options.signal.removeEventListener('abort', end);
    end();
  };
  const counting = countTables(client, options).catch((e: Error) => {
    options.log('warn', `Row counts are not recorded with this backup: ${e.message}`);
    return null;
  });
  return {
    snapshot,
    around: (dump) => {
      const finished = dump.finished
        .then(async (result) => {
          const rows = await counting;
          return rows ? { ...result, recorded: { ...result.recorded, table_rows: rows } } : result;
        })
        .finally(release);
      finished.catch(() => undefined);
      return { stream: dump.stream, finished };
    },
    release,
  };
}

async function countTables(client: ReturnType<typeof pgClient>, options: EngineOptions): Promise<TableRows[]> {
  const pick = chosen(options);
  const { rows: tables } = await client.query<{ schema: string; name: string; estimate: string }>(
    `SELECT n.nspname AS schema, c.relname AS name,
            (CASE WHEN c.reltuples >= 0 THEN c.reltuples ELSE coalesce(pg_stat_get_live_tuples(c.oid), 0) END)::bigint::text AS estimate
     ${LEAF_TABLES} ORDER BY 1, 2`,
  );
  const out: TableRows[] = [];
  for (const t of tables.filter((t) => pick(t.schema, t.name))) {
    options.signal.throwIfAborted();
    const table = tableName(t.schema, t.name);
    if (Number(t.estimate) > COUNTED_UP_TO) {
      out.push({ table, rows: Number(t.estimate), estimated: true });
      continue;
    }
    const r = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${quoteIdent(t.schema)}.${quoteIdent(t.name)}`);
    out.push({ table, rows: Number(r.rows[0]!.n), estimated: false });
  }
  return out;
}
