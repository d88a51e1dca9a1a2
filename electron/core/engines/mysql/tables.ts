import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdtemp, open, rm } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { AppError } from '../../../../shared/errors.js';
import { counted } from '../../../../shared/format.js';
import type { TocTable } from '../../../../shared/schemas/toc.js';
import type { RestoreOptions, RestoreResult, TableRows } from '../types.js';
import { SECTION, sqlDumpIndex } from './toc.js';

/** The dump's opening (its session settings) is well under this; a file whose first section starts later is not a dump of ours. */
const HEAD_LIMIT = 1024 * 1024;
/** A table's structure (its CREATE TABLE, where foreign keys are) is read from at most this much of its section. */
const STRUCTURE_LIMIT = 256 * 1024;

/** Where the dump's first section starts: before it, the settings every part of the dump runs with (character set, foreign key checks off). */
async function headEnd(file: string): Promise<number> {
  const fh = await open(file);
  try {
    const buf = Buffer.alloc(HEAD_LIMIT);
    const { bytesRead } = await fh.read(buf, 0, HEAD_LIMIT, 0);
    let at = 0;
    while (at < bytesRead) {
      const nl = buf.indexOf(0x0a, at);
      const end = nl < 0 || nl > bytesRead ? bytesRead : nl;
      // The section's comment starts with a bare `--` line just before it (as the table of contents counts it).
      if (SECTION.test(buf.toString('utf8', at, end))) return Math.max(0, at - 3);
      at = end + 1;
    }
  } finally {
    await fh.close();
  }
  throw new AppError('damaged', 'This backup does not read as a mysqldump file (no table section near its start)');
}

/** The dump's sections, read from the verified file itself (what the backup holds, not what a stored list says of it). */
async function sectionsOf(file: string, signal: AbortSignal): Promise<TocTable[]> {
  const index = sqlDumpIndex();
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024, signal })) index.observe(chunk as Buffer);
  return (await index.finish()).tables ?? [];
}

async function readRange(file: string, start: number, end: number): Promise<string> {
  const fh = await open(file);
  try {
    const buf = Buffer.alloc(Math.max(0, end - start));
    const { bytesRead } = await fh.read(buf, 0, buf.length, start);
    return buf.toString('utf8', 0, bytesRead);
  } finally {
    await fh.close();
  }
}

const unquote = (n: string) => n.replace(/``/g, '`');
const FOREIGN_KEY = /CONSTRAINT `((?:[^`]|``)+)` FOREIGN KEY \([^)]*\) REFERENCES `((?:[^`]|``)+)`/g;

/** The foreign keys of a table's CREATE TABLE that point at none of `there` (the tables chosen, and those the target holds). */
export function foreignKeysOut(structure: string, there: Set<string>): string[] {
  const create = structure.split('\n-- Dumping data for table')[0]!;
  const out: string[] = [];
  for (const m of create.matchAll(FOREIGN_KEY)) {
    const target = unquote(m[2]!);
    if (!there.has(target)) out.push(`${unquote(m[1]!)} → ${target} points at a table that was not chosen (restored with the table, its rows are not checked)`);
  }
  return out;
}

/**
 * The chosen tables of a MySQL/MariaDB dump: its opening settings, then each table's section (its DROP and CREATE,
 * rows and triggers), written to a private file that the whole-restore path (sandboxed client, new database or the
 * datasource itself) then runs. Names are checked against the dump before anything is touched.
 */
export async function mysqlRestoreTables(
  artifactPath: string,
  tables: string[],
  o: RestoreOptions,
  target: { restoreSql: (file: string) => Promise<RestoreResult>; tables: () => Promise<Set<string>> },
): Promise<RestoreResult> {
  const sections = (await sectionsOf(artifactPath, o.signal)).filter((t) => t.kind === 'TABLE' && t.range);
  if (sections.length === 0) throw new AppError('damaged', 'This backup holds no table section (it is not a mysqldump file, or it is empty)');
  const byName = new Map(sections.map((t) => [t.name, t]));
  const missing = tables.find((t) => !byName.has(t));
  if (missing !== undefined) throw new AppError('not_found', `“${missing.slice(0, 300)}” is not a table of this backup`);
  const wanted = new Set(tables);
  const chosen = sections.filter((t) => wanted.has(t.name));
  const dir = await mkdtemp(path.join(o.tempDir, 'tables-'));
  try {
    const file = path.join(dir, 'chosen.sql');
    const out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
    const closed = once(out, 'close');
    const leftOut: string[] = [];
    try {
      for (const [start, end] of [[0, await headEnd(artifactPath)] as const, ...chosen.map((t) => t.range!)]) {
        for await (const piece of createReadStream(artifactPath, { start, end: end - 1, highWaterMark: 1024 * 1024, signal: o.signal })) {
          if (!out.write(piece)) await once(out, 'drain');
        }
      }
      out.end();
      await closed;
    } catch (e) {
      out.destroy();
      throw e;
    }
    // A table the target already holds (restoring into the datasource itself) is still pointed at.
    const there = new Set([...wanted, ...(o.createDatabase ? [] : await target.tables())]);
    for (const t of chosen) {
      const [start, end] = t.range!;
      leftOut.push(...foreignKeysOut(await readRange(artifactPath, start, Math.min(end, start + STRUCTURE_LIMIT)), there));
    }
    for (const note of leftOut) o.log('warn', note);
    o.log('info', `Restoring ${counted(chosen.length, 'table')} of ${sections.length} (each with its rows and triggers)`);
    o.touching?.();
    const result = await target.restoreSql(file);
    return { ...result, left_out: leftOut };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const ESCAPES: Record<string, string> = { '0': '\0', n: '\n', r: '\r', t: '\t', Z: '\x1a', b: '\b' };

/** The rows of one extended INSERT's `VALUES (…),(…);` as mysqldump writes them: quoted strings with backslash escapes, NULL, numbers, 0x… blobs. */
export function* insertValues(text: string): Generator<(string | null)[]> {
  let i = 0;
  while ((i = text.indexOf('(', i)) >= 0) {
    i++;
    const row: (string | null)[] = [];
    for (;;) {
      if (text[i] === "'") {
        let value = '';
        for (i++; i < text.length && text[i] !== "'"; i++) {
          if (text[i] === '\\' && i + 1 < text.length) value += ESCAPES[text[++i]!] ?? text[i];
          else value += text[i];
        }
        row.push(value);
        i++;
      } else {
        let end = i;
        while (end < text.length && text[end] !== ',' && text[end] !== ')') end++;
        const token = text.slice(i, end).trim();
        row.push(token === 'NULL' ? null : token);
        i = end;
      }
      if (text[i] === ',') i++;
      else break;
    }
    if (text[i] !== ')') throw new AppError('damaged', 'A row of this table in the backup is cut short');
    i++;
    yield row;
  }
}

/** One table of a MySQL/MariaDB dump: its columns from its CREATE TABLE, its rows from its INSERTs. */
export async function mysqlTableRows(artifactPath: string, name: string, o: Pick<RestoreOptions, 'signal'>): Promise<TableRows> {
  const table = (await sectionsOf(artifactPath, o.signal)).find((t) => t.kind === 'TABLE' && t.name === name && t.range);
  if (!table) throw new AppError('not_found', `“${name.slice(0, 300)}” is not a table of this backup`);
  const [start, end] = table.range!;
  const input = createReadStream(artifactPath, { start, end: Math.max(start, end - 1), signal: o.signal });
  const lines = createInterface({ input, crlfDelay: Infinity })[Symbol.asyncIterator]();
  const columns: string[] = [];
  for (let next = await lines.next(); !next.done && !/^\)/.test(next.value); next = await lines.next()) {
    const column = /^ {2}`((?:[^`]|``)+)` /.exec(next.value);
    if (column) columns.push(unquote(column[1]!));
  }
  const insert = `INSERT INTO \`${name.replace(/`/g, '``')}\` VALUES`;
  async function* rows() {
    try {
      for (let next = await lines.next(); !next.done; next = await lines.next()) {
        if (!next.value.startsWith(insert)) continue;
        // One statement: on one line (mysqldump), or a row a line (newer mariadb-dump) until the line that ends it.
        let statement = next.value.slice(insert.length);
        while (!statement.trimEnd().endsWith(';')) {
          next = await lines.next();
          if (next.done) break;
          statement += `\n${next.value}`;
        }
        yield* insertValues(statement);
      }
    } finally {
      input.destroy();
    }
  }
  return { columns, rows: rows() };
}
