import { randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { ConnectionConfig } from '../../../shared/schemas/datasource.js';
import type { Engine } from './types.js';

function open(file: string) {
  return new Database(file, { readonly: true, fileMustExist: true });
}

export const sqliteEngine: Engine = {
  async inspect(config) {
    const { file_path } = config as ConnectionConfig<'sqlite'>;
    const db = open(file_path);
    try {
      const version = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[];
      let rows = 0;
      for (const t of tables) rows += (db.prepare(`SELECT COUNT(*) AS n FROM "${t.name.replace(/"/g, '""')}"`).get() as { n: number }).n;
      return { database_version: `SQLite ${version}`, tables_backed_up: tables.length, rows_approximate: rows, size_estimate_bytes: statSync(file_path).size };
    } finally {
      db.close();
    }
  },

  /**
   * A consistent copy while the database is being written: SQLite's online backup into a temp file,
   * checked with PRAGMA integrity_check, then streamed and removed.
   */
  async dump(config, options) {
    const { file_path } = config as ConnectionConfig<'sqlite'>;
    mkdirSync(options.tempDir, { recursive: true, mode: 0o700 });
    const copy = path.join(options.tempDir, `sqlite-${randomBytes(6).toString('hex')}.db`);
    const db = open(file_path);
    try {
      await db.backup(copy);
    } catch (e) {
      rmSync(copy, { force: true });
      throw e;
    } finally {
      db.close();
    }
    const check = new Database(copy, { readonly: true });
    const verdict = (check.pragma('integrity_check', { simple: true }) as string) ?? 'unknown';
    check.close();
    if (verdict !== 'ok') {
      rmSync(copy, { force: true });
      throw new Error(`The copy of ${file_path} failed PRAGMA integrity_check: ${verdict}`);
    }
    options.log('info', `Copied ${file_path} with SQLite's online backup; integrity_check: ok`);
    const stream = createReadStream(copy);
    const finished = new Promise<{ engine_output: string }>((resolve, reject) => {
      stream.on('close', () => {
        rmSync(copy, { force: true });
        resolve({ engine_output: `integrity_check: ${verdict}` });
      });
      stream.on('error', reject);
    });
    finished.catch(() => undefined);
    return { stream, finished };
  },
};
