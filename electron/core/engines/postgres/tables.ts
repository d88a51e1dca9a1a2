import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { AppError } from '../../../../shared/errors.js';
import { counted } from '../../../../shared/format.js';
import type { ServerConnectionConfig } from '../../../../shared/schemas/datasource.js';
import { runTool, secretFile, spawnDump } from '../process.js';
import type { RestoreOptions, RestoreResult, TableRows } from '../types.js';
import { withClient } from './client.js';
import { unpackedIfDirectory } from './directory.js';
import { pgRestore, prepareTarget } from './restore.js';
import { parseListLine } from './toc.js';
import { pgTool } from './tools.js';
import { fileSource } from '../source.js';

/** One entry of an archive's list, with the entries it depends on (`pg_restore --list --verbose`). */
export interface ListEntry {
  id: number;
  kind: string;
  schema: string | null;
  name: string;
  deps: number[];
}

export interface ArchiveList {
  /** The list as pg_restore printed it, line by line (what --use-list reads back). */
  lines: string[];
  entries: ListEntry[];
}

/** What a table brings with it: its data, sequences, defaults, indexes, constraints, triggers, comments and grants. */
const ATTACHED = new Set([
  'TABLE DATA',
  'SEQUENCE',
  'SEQUENCE OWNED BY',
  'SEQUENCE SET',
  'DEFAULT',
  'INDEX',
  'INDEX ATTACH',
  'CONSTRAINT',
  'CHECK CONSTRAINT',
  'FK CONSTRAINT',
  'COMMENT',
  'ACL',
  'TRIGGER',
  'RULE',
  'POLICY',
  'ROW SECURITY',
  'STATISTICS',
]);

/** What a table may need to exist first (its schema, a type of a column, a trigger's function), restored only when the target lacks it. */
const NEEDED = new Set(['SCHEMA', 'TYPE', 'DOMAIN', 'FUNCTION', 'PROCEDURE', 'AGGREGATE', 'COLLATION', 'EXTENSION']);

/** Archive-wide settings every restore runs with (client encoding, standard strings, an empty search_path). */
const SETTINGS = /^\d+; \d+ \d+ (ENCODING|STDSTRINGS|SEARCHPATH) /;
/** Names of constraints, triggers, defaults… start with their table's: `orders orders_customer_id_fkey`. */
const NAMED_AFTER_TABLE = new Set(['CONSTRAINT', 'CHECK CONSTRAINT', 'FK CONSTRAINT', 'TRIGGER', 'DEFAULT', 'RULE', 'POLICY']);

export function parseVerboseList(text: string): ArchiveList {
  const lines = text.split('\n');
  const entries: ListEntry[] = [];
  let last: ListEntry | null = null;
  for (const line of lines) {
    const deps = /^;\s*depends on:([\d ]*)$/.exec(line);
    if (deps) {
      last?.deps.push(...deps[1]!.trim().split(/\s+/).filter(Boolean).map(Number));
      continue;
    }
    if (!/^\d+;/.test(line)) continue;
    const e = parseListLine(line);
    last = e ? { id: e.dump_id!, kind: e.kind, schema: e.schema, name: e.name, deps: [] } : null;
    if (last) entries.push(last);
  }
  return { lines, entries };
}

const tableName = (e: Pick<ListEntry, 'schema' | 'name'>) => (e.schema ? `${e.schema}.${e.name}` : e.name);

/** The chosen tables' entries; a name the archive does not hold as a table is refused, naming it. */
export function pickTables(list: ArchiveList, tables: string[]): ListEntry[] {
  const byName = new Map(list.entries.filter((e) => e.kind === 'TABLE').map((e) => [tableName(e), e]));
  return tables.map((t) => {
    const e = byName.get(t);
    if (!e) throw new AppError('not_found', `“${t.slice(0, 300)}” is not a table of this backup`);
    return e;
  });
}

/** Kinds the catalog keeps together: a type and a domain are both in pg_type, a table and a view both in pg_class… */
const GROUPS: Record<string, string> = {
  DOMAIN: 'TYPE',
  PROCEDURE: 'FUNCTION',
  AGGREGATE: 'FUNCTION',
  VIEW: 'TABLE',
  'MATERIALIZED VIEW': 'TABLE',
  'FOREIGN TABLE': 'TABLE',
  'CHECK CONSTRAINT': 'CONSTRAINT',
  'FK CONSTRAINT': 'CONSTRAINT',
};

/** `group:schema.name` of an object, as presentObjects names those the target already has. */
export function objectKey(e: Pick<ListEntry, 'kind' | 'schema' | 'name'>): string {
  const group = GROUPS[e.kind] ?? e.kind;
  const name = group === 'FUNCTION' ? e.name.replace(/\(.*$/, '') : e.name;
  return `${group}:${e.schema ?? ''}.${name}`;
}

/**
 * The chosen table an entry belongs to. A constraint, trigger or default is named after its table (its dependencies
 * come in no set order: a foreign key depends on its own table and on the one it references); the rest depend on theirs.
 */
function ownerOf(e: ListEntry, chosen: ListEntry[]): ListEntry | undefined {
  if (!NAMED_AFTER_TABLE.has(e.kind)) return chosen.find((t) => e.deps.includes(t.id));
  const own = chosen.filter((t) => t.schema === e.schema && e.name.startsWith(`${t.name} `) && e.deps.includes(t.id));
  return own.sort((a, b) => b.name.length - a.name.length)[0];
}

export interface TableChoice {
  /** The list for --use-list, everything else and the grants commented out. */
  data: string[];
  /** The chosen tables' grants (restored apart, a failure being a warning). */
  grants: string[];
  /** What was left out because it points outside the choice, in the user's words. */
  leftOut: string[];
  entries: number;
}

/**
 * The entries to restore for the chosen tables: each table and what hangs on it (found through the archive's dependency
 * ids), and what it needs that the target lacks (a schema, a type, a trigger's function). An entry that hangs on a
 * chosen table but also points at one left out (a foreign key to `customers`) is not restored, and said.
 */
export function chooseEntries(list: ArchiveList, chosen: ListEntry[], present: Set<string>): TableChoice {
  const byId = new Map(list.entries.map((e) => [e.id, e]));
  const chosenIds = new Set(chosen.map((e) => e.id));
  const kept = new Set(chosenIds);
  // A dependency is met when it is restored too, restored when missing (a schema…), or already in the target (restoring
  // orders into its own database keeps its foreign key to the customers there).
  const inside = (d: number) => kept.has(d) || !byId.has(d) || NEEDED.has(byId.get(d)!.kind) || present.has(objectKey(byId.get(d)!));
  for (let grew = true; grew;) {
    grew = false;
    for (const e of list.entries) {
      if (kept.has(e.id) || !ATTACHED.has(e.kind) || !e.deps.some((d) => kept.has(d)) || !e.deps.every(inside)) continue;
      kept.add(e.id);
      grew = true;
    }
  }

  const leftOut: string[] = [];
  for (const e of list.entries) {
    if (kept.has(e.id) || !ATTACHED.has(e.kind)) continue;
    // Only what belongs to a chosen table: a foreign key of a table left out, pointing at a chosen one, is not news.
    const owner = ownerOf(e, chosen);
    if (!owner) continue;
    const outside = e.deps.filter((d) => !inside(d)).map((d) => byId.get(d)!);
    // The tables it points at: directly, or through their constraint or index (a foreign key names the key it references).
    const tables = new Set<string>();
    for (const o of outside) {
      if (o.kind === 'TABLE') tables.add(tableName(o));
      else for (const d of o.deps) if (byId.get(d)?.kind === 'TABLE' && !chosenIds.has(d)) tables.add(tableName(byId.get(d)!));
    }
    const name = NAMED_AFTER_TABLE.has(e.kind) ? e.name.slice(owner.name.length + 1) : e.name;
    leftOut.push(
      tables.size
        ? `${name} → ${[...tables].join(', ')} was not restored: the table was not chosen`
        : `${e.kind.toLowerCase()} ${name} was not restored: it needs ${outside.map((o) => `${o.kind.toLowerCase()} ${tableName(o)}`).join(', ')}, which was not chosen`,
    );
  }

  const needed = new Set<number>();
  const need = (id: number) => {
    const e = byId.get(id);
    if (!e || kept.has(id) || needed.has(id) || !NEEDED.has(e.kind) || present.has(objectKey(e))) return;
    needed.add(id);
    e.deps.forEach(need);
  };
  for (const id of kept) byId.get(id)!.deps.forEach(need);

  const data: string[] = [];
  const grants: string[] = [];
  for (const line of list.lines) {
    const id = /^(\d+);/.exec(line)?.[1];
    if (id === undefined || SETTINGS.test(line)) {
      data.push(line);
      continue;
    }
    const e = byId.get(Number(id));
    const wanted = e !== undefined && (kept.has(e.id) || needed.has(e.id));
    if (wanted && e.kind === 'ACL') grants.push(line);
    data.push(wanted && e.kind !== 'ACL' ? line : `;${line}`);
  }
  return { data, grants, leftOut, entries: kept.size + needed.size };
}

/**
 * What the target already has, named as objectKey names the archive's entries: schemas, types, functions, collations
 * and extensions (not restored again), tables, constraints and indexes (what a chosen table's foreign keys may point at).
 */
async function presentObjects(c: ServerConnectionConfig, signal: AbortSignal): Promise<Set<string>> {
  return withClient(c, c.database, signal, async (client) => {
    const { rows } = await client.query<{ key: string }>(
      `SELECT 'SCHEMA:.' || nspname AS key FROM pg_namespace
       UNION ALL SELECT 'TYPE:' || n.nspname || '.' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
       UNION ALL SELECT 'FUNCTION:' || n.nspname || '.' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       UNION ALL SELECT 'COLLATION:' || n.nspname || '.' || c.collname FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace
       UNION ALL SELECT 'EXTENSION:.' || extname FROM pg_extension
       UNION ALL SELECT CASE WHEN c.relkind = 'i' THEN 'INDEX:' ELSE 'TABLE:' END || n.nspname || '.' || c.relname
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'i')
       UNION ALL SELECT 'CONSTRAINT:' || n.nspname || '.' || c.relname || ' ' || k.conname
         FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace`,
    );
    return new Set(rows.map((r) => r.key));
  });
}

/** The server's major version, read where the restore will connect (a new database is not there yet). */
async function serverMajor(c: ServerConnectionConfig, o: RestoreOptions): Promise<number> {
  return withClient(c, o.createDatabase ? 'postgres' : c.database, o.signal, async (client) => {
    const { rows } = await client.query<{ num: string }>("SELECT current_setting('server_version_num') AS num");
    return Math.floor(Number(rows[0]!.num) / 10000);
  });
}

/** `pg_restore --list --verbose`: the archive's entries with their dependency ids; touches nothing on the server. */
async function archiveList(tool: string, archive: string, o: Pick<RestoreOptions, 'tempDir' | 'signal'>): Promise<ArchiveList> {
  const file = secretFile(o.tempDir, 'pg-list', '');
  try {
    await runTool(tool, ['--list', '--verbose', `--file=${file.path}`, '--', archive], { signal: o.signal });
    return parseVerboseList(await readFile(file.path, 'utf8'));
  } finally {
    file.remove();
  }
}

/**
 * Restores the chosen tables of a PostgreSQL archive with what they need, in one transaction, through the same
 * pg_restore pass as a whole restore (grants apart). Names are checked against the archive before the target is touched.
 */
export async function pgRestoreTables(config: ServerConnectionConfig, artifactPath: string, tables: string[], o: RestoreOptions): Promise<RestoreResult> {
  const unpacked = await unpackedIfDirectory(fileSource(artifactPath), o.tempDir, o.signal);
  try {
    const archive = unpacked?.dir ?? artifactPath;
    const major = await serverMajor(config, o);
    const tool = await pgTool('pg_restore', major, o.toolDirs.postgres);
    const list = await archiveList(tool, archive, o);
    const chosen = pickTables(list, tables);
    o.touching?.();
    await prepareTarget(config, o, async () => undefined);
    const choice = chooseEntries(list, chosen, await presentObjects(config, o.signal));
    for (const note of choice.leftOut) o.log('warn', note);
    o.log('info', `Restoring ${counted(chosen.length, 'table')}: ${counted(choice.entries, 'entry', 'entries')} of the archive`);
    const output = await pgRestore(config, major, { tool, data: choice.data, grants: choice.grants }, archive, { ...o, parallelJobs: 1 });
    return { engine_output: output, left_out: choice.leftOut };
  } finally {
    await unpacked?.remove();
  }
}

/** A value of COPY's text format: `\N` is NULL; backslash escapes as PostgreSQL writes them. */
export function copyValue(field: string): string | null {
  if (field === '\\N') return null;
  if (!field.includes('\\')) return field;
  return field.replace(/\\(x[0-9A-Fa-f]{1,2}|[0-7]{1,3}|.)/g, (_, e: string) => {
    const simple: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
    if (e in simple) return simple[e]!;
    if (e[0] === 'x' && e.length > 1) return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]+$/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return e;
  });
}

/** The column names of pg_restore's `COPY schema.table (a, "B c") FROM stdin;`. */
export function copyColumns(line: string): string[] {
  const list = /\((.*)\) FROM stdin;$/.exec(line)?.[1] ?? '';
  return [...list.matchAll(/"((?:[^"]|"")*)"|([^,\s][^,]*)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2]!.trim()));
}

/**
 * One table's rows, decoded from the archive's own COPY data (`pg_restore --data-only` of its TABLE DATA entry, to
 * stdout): no server is needed, and the values are the text PostgreSQL wrote at backup time.
 */
export async function pgTableRows(artifactPath: string, name: string, o: Pick<RestoreOptions, 'tempDir' | 'toolDirs' | 'signal'>): Promise<TableRows> {
  const unpacked = await unpackedIfDirectory(fileSource(artifactPath), o.tempDir, o.signal);
  try {
    const archive = unpacked?.dir ?? artifactPath;
    // Any pg_restore reads the archives of its own and older versions; no server says which one fits.
    const tool = await pgTool('pg_restore', 0, o.toolDirs.postgres);
    const list = await archiveList(tool, archive, o);
    const [table] = pickTables(list, [name]);
    const data = list.entries.find((e) => e.kind === 'TABLE DATA' && e.deps.includes(table!.id));
    if (!data) throw new AppError('not_found', `The backup holds no rows of “${name.slice(0, 300)}”`);
    const use = secretFile(o.tempDir, 'pg-list', `${list.lines.find((l) => l.startsWith(`${data.id};`))}\n`);
    const dump = spawnDump(tool, ['--data-only', `--use-list=${use.path}`, '--file=-', '--', archive], { signal: o.signal, cleanup: use.remove });
    const lines = createInterface({ input: dump.stream, crlfDelay: Infinity })[Symbol.asyncIterator]();
    let columns: string[] | null = null;
    for (let next = await lines.next(); !next.done; next = await lines.next()) {
      if (/^COPY .* FROM stdin;$/.test(next.value)) {
        columns = copyColumns(next.value);
        break;
      }
    }
    if (!columns) {
      await dump.finished;
      throw new AppError('damaged', `The backup's data of “${name.slice(0, 300)}” has no COPY block`);
    }
    const remove = () => unpacked?.remove();
    async function* rows() {
      try {
        for (let next = await lines.next(); !next.done && next.value !== '\\.'; next = await lines.next()) yield next.value.split('\t').map(copyValue);
        dump.stream.resume();
        await dump.finished;
      } finally {
        dump.stream.destroy();
        await remove();
      }
    }
    return { columns, rows: rows() };
  } catch (e) {
    await unpacked?.remove();
    throw e;
  }
}
