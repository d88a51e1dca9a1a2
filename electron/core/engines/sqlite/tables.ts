import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AppError } from '../../../../shared/errors.js';
import { counted } from '../../../../shared/format.js';
import type { ConnectionConfig } from '../../../../shared/schemas/datasource.js';
import type { RestoreOptions, RestoreResult, TableRows } from '../types.js';
import { check, keepPrevious } from './file.js';

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
/** What the backup's schema may hold for a table: one CREATE statement each (prepared alone, never run as a script). */
const CREATE = /^\s*CREATE\s+(TABLE|(UNIQUE\s+)?INDEX|TRIGGER)\b/i;

interface SchemaRow {
  type: string;
  name: string;
  tbl_name: string;
  sql: string | null;
}

/** The foreign keys of a chosen table that point at tables neither chosen nor in the target (kept with the table, said in the run). */
function foreignKeysOut(db: Database.Database, table: string, chosen: Set<string>): string[] {
  const keys = db.prepare(`PRAGMA backup.foreign_key_list(${quote(table)})`).all() as { table: string; from: string }[];
  const inTarget = db.prepare("SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE");
  return keys
    .filter((k) => !chosen.has(k.table) && !inTarget.get(k.table))
    .map((k) => `${table}.${k.from} → ${k.table} points at a table that was not chosen (restored with the table, its rows are not checked)`);
}

/**
 * Restores the chosen tables of an SQLite backup, each with its indexes and triggers, into the target file: a new one,
 * or a consistent copy of the current one (SQLite's online backup) in which the tables are replaced. The result is
 * checked (PRAGMA integrity_check), the current file kept under a dated name, then moved into place in one rename.
 */
export async function sqliteRestoreTables(
  config: ConnectionConfig<'sqlite'>,
  artifactPath: string,
  tables: string[],
  o: RestoreOptions,
): Promise<RestoreResult> {
  check(artifactPath);
  const target = path.resolve(config.file_path);
  await mkdir(path.dirname(target), { recursive: true });
  const fresh = path.join(path.dirname(target), `.${path.basename(target)}.restore-${randomBytes(4).toString('hex')}`);
  try {
    const exists = existsSync(target);
    if (exists) {
      const current = new Database(target, { readonly: true, fileMustExist: true });
      try {
        await current.backup(fresh);
      } finally {
        current.close();
      }
    }
    const leftOut: string[] = [];
    const db = new Database(fresh);
    try {
      db.pragma('foreign_keys = OFF');
      db.prepare('ATTACH DATABASE ? AS backup').run(artifactPath);
      const schema = db.prepare('SELECT type, name, tbl_name, sql FROM backup.sqlite_master').all() as SchemaRow[];
      const known = new Set(schema.filter((r) => r.type === 'table' && !r.name.startsWith('sqlite_')).map((r) => r.name));
      const missing = tables.find((t) => !known.has(t));
      if (missing !== undefined) throw new AppError('not_found', `“${missing.slice(0, 300)}” is not a table of this backup`);
      const wanted = new Set(tables);
      const hasSequence = known.size > 0 && schema.some((r) => r.name === 'sqlite_sequence');
      db.transaction(() => {
        for (const table of wanted) {
          // Its indexes and triggers go with it.
          db.prepare(`DROP TABLE IF EXISTS main.${quote(table)}`).run();
          const own = schema.filter((r) => r.tbl_name === table && r.sql !== null && (r.type === 'table' || r.type === 'index' || r.type === 'trigger'));
          // The table first, then its indexes, then its triggers (which may name the table's columns).
          for (const type of ['table', 'index', 'trigger']) {
            for (const r of own.filter((x) => x.type === type)) {
              if (!CREATE.test(r.sql!)) throw new AppError('damaged', `The backup's schema holds something other than a CREATE statement for ${table}`);
              db.prepare(r.sql!).run();
            }
            if (type === 'table') db.prepare(`INSERT INTO main.${quote(table)} SELECT * FROM backup.${quote(table)}`).run();
          }
          if (hasSequence && db.prepare("SELECT 1 FROM main.sqlite_master WHERE name = 'sqlite_sequence'").get()) {
            db.prepare('DELETE FROM main.sqlite_sequence WHERE name = ?').run(table);
            db.prepare('INSERT INTO main.sqlite_sequence (name, seq) SELECT name, seq FROM backup.sqlite_sequence WHERE name = ?').run(table);
          }
          leftOut.push(...foreignKeysOut(db, table, wanted));
        }
      })();
      db.prepare('DETACH DATABASE backup').run();
    } finally {
      db.close();
    }
    for (const note of leftOut) o.log('warn', note);
    check(fresh);
    o.signal.throwIfAborted();
    let previous: string | undefined;
    o.touching?.();
    if (exists) {
      await chmod(fresh, (await stat(target)).mode & 0o7777);
      previous = await keepPrevious(target, o);
    }
    await rename(fresh, target);
    o.log('info', `Restored ${counted(tables.length, 'table')} into ${exists ? 'the current file' : 'a new file'}`);
    return { engine_output: 'integrity_check: ok', left_out: leftOut, ...(previous ? { previous_file: previous } : {}) };
  } finally {
    for (const suffix of ['', '-wal', '-shm', '-journal']) await rm(fresh + suffix, { force: true });
  }
}

/** A value as text: numbers as SQLite prints them, a blob as hex (`\x…`, as PostgreSQL writes bytea). */
const text = (v: unknown): string | null =>
  v === null || v === undefined ? null : Buffer.isBuffer(v) ? `\\x${v.toString('hex')}` : typeof v === 'string' ? v : String(v);

/** One table of an SQLite backup, read straight from the verified file. */
export async function sqliteTableRows(artifactPath: string, name: string): Promise<TableRows> {
  const db = new Database(artifactPath, { readonly: true, fileMustExist: true });
  try {
    const known = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ? AND name NOT LIKE 'sqlite_%'").get(name);
    if (!known) throw new AppError('not_found', `“${name.slice(0, 300)}” is not a table of this backup`);
    const statement = db.prepare(`SELECT * FROM ${quote(name)}`).raw(true);
    const columns = statement.columns().map((c) => c.name);
    async function* rows() {
      try {
        for (const row of statement.iterate() as Iterable<unknown[]>) yield row.map(text);
      } finally {
        db.close();
      }
    }
    return { columns, rows: rows() };
  } catch (e) {
    db.close();
    throw e;
  }
}
