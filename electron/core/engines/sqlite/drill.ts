import Database from 'better-sqlite3';
import type { ConnectionConfig } from '../../../../shared/schemas/datasource.js';
import type { DrillChecks } from '../types.js';

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Each table's row count in an open database. */
export function countRows(db: Database.Database): [string, number][] {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[];
  return tables.map((t) => [t.name, (db.prepare(`SELECT count(*) AS n FROM ${quote(t.name)}`).get() as { n: number }).n]);
}

/** A drill's checks of a restored SQLite file: its rows per table, PRAGMA integrity_check, and the job's assertions. */
export const sqliteDrill: DrillChecks = {
  async tableRows(config) {
    const db = new Database((config as ConnectionConfig<'sqlite'>).file_path, { readonly: true, fileMustExist: true });
    try {
      return new Map(countRows(db));
    } finally {
      db.close();
    }
  },
  async integrity(config) {
    const db = new Database((config as ConnectionConfig<'sqlite'>).file_path, { readonly: true, fileMustExist: true });
    try {
      const verdict = db.pragma('integrity_check', { simple: true }) as string;
      return { check: 'PRAGMA integrity_check', ok: verdict === 'ok', detail: verdict };
    } finally {
      db.close();
    }
  },
  async assert(config, sql) {
    const db = new Database((config as ConnectionConfig<'sqlite'>).file_path, { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare(sql).raw(true).get() as unknown[] | undefined;
      return row?.[0];
    } finally {
      db.close();
    }
  },
};
