import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, link, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AppError } from '../../../../shared/errors.js';
import type { ConnectionConfig } from '../../../../shared/schemas/datasource.js';
import type { Restorer } from './types.js';

const stamp = (d = new Date()) => d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

export const sqliteRestorer: Restorer = {
  async restore(config, artifactPath, o) {
    const target = path.resolve((config as ConnectionConfig<'sqlite'>).file_path);
    await mkdir(path.dirname(target), { recursive: true });
    // Built beside the target so the final rename is atomic (same file system).
    const fresh = path.join(path.dirname(target), `.${path.basename(target)}.restore-${randomBytes(4).toString('hex')}`);
    try {
      await copyFile(artifactPath, fresh);
      const db = new Database(fresh, { readonly: true, fileMustExist: true });
      const check = db.pragma('integrity_check', { simple: true });
      db.close();
      if (check !== 'ok') throw new AppError('conflict', `The backup's SQLite file fails integrity_check: ${String(check)}`);
      let previous: string | undefined;
      if (existsSync(target)) {
        previous = `${target}.before-restore-${stamp()}`;
        // A hard link keeps the old file under its new name while the rename below replaces the original.
        await link(target, previous).catch(() => copyFile(target, previous!));
        // Its journal belongs to the old file: moved with it, so the new file does not replay it.
        if (existsSync(`${target}-wal`)) await rename(`${target}-wal`, `${previous}-wal`);
        await rm(`${target}-shm`, { force: true });
        o.log('info', `Keeping the current file as ${previous}`);
      }
      await rename(fresh, target);
      return { engine_output: 'integrity_check: ok', ...(previous ? { previous_file: previous } : {}) };
    } finally {
      await rm(fresh, { force: true });
    }
  },

  async summarize(config) {
    const db = new Database((config as ConnectionConfig<'sqlite'>).file_path, { readonly: true, fileMustExist: true });
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[];
      let rows = 0;
      for (const t of tables) rows += (db.prepare(`SELECT count(*) AS n FROM "${t.name.replace(/"/g, '""')}"`).get() as { n: number }).n;
      return { tables: tables.length, rows };
    } finally {
      db.close();
    }
  },
};
