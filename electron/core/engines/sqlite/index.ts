import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, rmSync, statSync } from 'node:fs';
import { chmod, mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import Database from 'better-sqlite3';
import type { ConnectionConfig } from '../../../../shared/schemas/datasource.js';
import { probeFailure } from '../probe.js';
import { pathTarget } from '../target.js';
import type { BackupEngine, DumpResult } from '../types.js';
import { countRows } from './drill.js';
import { check, keepPrevious } from './file.js';
import { sqliteRestoreTables, sqliteTableRows } from './tables.js';

function open(file: string) {
  return new Database(file, { readonly: true, fileMustExist: true });
}

export const sqliteEngine: BackupEngine = {
  label: 'SQLite',
  format: 'db',

  async probe(config) {
    const { file_path } = config as ConnectionConfig<'sqlite'>;
    let db: Database.Database;
    try {
      db = open(file_path);
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CANTOPEN') throw probeFailure('unreachable', `File not found or not readable: ${file_path}`);
      throw e;
    }
    try {
      db.pragma('schema_version');
      const version = db.prepare('SELECT sqlite_version() AS v').get() as { v: string };
      const tables = db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number };
      return { metadata: { database_version: `SQLite ${version.v}`, tables: tables.n, database_size_bytes: statSync(file_path).size } };
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_NOTADB') throw new Error(`${file_path} is not an SQLite database`);
      throw e;
    } finally {
      db.close();
    }
  },

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
    // Counted in the copy itself: exactly what the backup holds.
    const tableRows = verdict === 'ok' ? countRows(check).map(([table, rows]) => ({ table, rows, estimated: false })) : [];
    check.close();
    if (verdict !== 'ok') {
      rmSync(copy, { force: true });
      throw new Error(`The copy of ${file_path} failed PRAGMA integrity_check: ${verdict}`);
    }
    options.log('info', `Copied ${file_path} with SQLite's online backup; integrity_check: ok`);
    const stream = createReadStream(copy);
    const finished = new Promise<DumpResult>((resolve, reject) => {
      stream.on('close', () => {
        rmSync(copy, { force: true });
        resolve({ engine_output: `integrity_check: ${verdict}`, recorded: { table_rows: tableRows } });
      });
      stream.on('error', reject);
    });
    finished.catch(() => undefined);
    return { stream, finished };
  },

  /** Checked copy beside the target, the current file kept under a dated name, then one atomic rename. */
  async restore(config, source, options) {
    const target = path.resolve((config as ConnectionConfig<'sqlite'>).file_path);
    await mkdir(path.dirname(target), { recursive: true });
    // Beside the target so that the final rename stays on one file system (atomic).
    const fresh = path.join(path.dirname(target), `.${path.basename(target)}.restore-${randomBytes(4).toString('hex')}`);
    try {
      // Written beside the target as it is decoded: no staging copy of the file elsewhere first.
      await pipeline(source.open(), createWriteStream(fresh, { flags: 'wx' }), { signal: options.signal });
      check(fresh);
      options.signal.throwIfAborted();
      let previous: string | undefined;
      if (existsSync(target)) {
        await chmod(fresh, (await stat(target)).mode & 0o7777);
        previous = await keepPrevious(target, options);
      }
      await rename(fresh, target);
      return { engine_output: 'integrity_check: ok', ...(previous ? { previous_file: previous } : {}) };
    } finally {
      for (const suffix of ['', '-wal', '-shm']) await rm(fresh + suffix, { force: true });
    }
  },

  tableRows: (artifactPath, table) => sqliteTableRows(artifactPath, table),
  restoreTables: (config, artifactPath, tables, options) => sqliteRestoreTables(config as ConnectionConfig<'sqlite'>, artifactPath, tables, options),

  async summarize(config, { signal }) {
    const db = open((config as ConnectionConfig<'sqlite'>).file_path);
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[];
      let rows = 0;
      for (const t of tables) {
        signal.throwIfAborted();
        rows += (db.prepare(`SELECT count(*) AS n FROM "${t.name.replace(/"/g, '""')}"`).get() as { n: number }).n;
      }
      return { tables: tables.length, rows };
    } finally {
      db.close();
    }
  },

  target: (config, _name, request) => pathTarget(config, 'file_path', request),

  /** Each table with its rows, counted in the database just backed up (cheap in SQLite, and what a user chooses by). */
  contents(config, { signal }) {
    return {
      observe: () => undefined,
      async finish() {
        const db = open((config as ConnectionConfig<'sqlite'>).file_path);
        try {
          const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as {
            name: string;
          }[];
          return {
            kind: 'tables' as const,
            tables: tables.map((t) => {
              signal.throwIfAborted();
              const rows = (db.prepare(`SELECT count(*) AS n FROM "${t.name.replace(/"/g, '""')}"`).get() as { n: number }).n;
              return { schema: null, name: t.name, kind: 'TABLE', rows, bytes: null, range: null, dump_id: null };
            }),
          };
        } finally {
          db.close();
        }
      },
    };
  },

  async scratch({ dir }) {
    return { config: { file_path: path.join(dir, 'restore-test.db') }, description: 'a temporary file', createDatabase: false, drop: async () => undefined };
  },
};
