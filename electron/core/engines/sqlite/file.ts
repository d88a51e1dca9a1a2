import { constants, existsSync } from 'node:fs';
import { copyFile, link, rename, rm } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { AppError } from '../../../../shared/errors.js';
import type { RestoreOptions } from '../types.js';

const pad = (n: number) => String(n).padStart(2, '0');
/** Local time, as the user reads it beside the file: 20250131-142501. */
const stamp = (d: Date) => `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;

// The files SQLite keeps beside a database: a journal left there would be replayed into the new file.
const JOURNALS = ['-wal', '-journal'];

/** The copy must be a sound database before it replaces anything. */
export function check(file: string): void {
  let verdict: unknown;
  try {
    // Read-write, so that a WAL-mode copy's -wal and -shm are removed when it closes.
    const db = new Database(file, { fileMustExist: true });
    try {
      verdict = db.pragma('integrity_check', { simple: true });
    } finally {
      db.close();
    }
  } catch (e) {
    throw new AppError('validation_error', `The backup is not a readable SQLite database: ${(e as Error).message}`);
  }
  if (verdict !== 'ok') throw new AppError('validation_error', `The backup's SQLite file fails PRAGMA integrity_check: ${String(verdict)}`);
}

/**
 * Keeps the current database under a dated name, with its journal, so the restore can be undone.
 * A hard link keeps it without copying and leaves the target in place until the final rename.
 */
export async function keepPrevious(target: string, o: RestoreOptions): Promise<string> {
  let previous = `${target}.before-restore-${stamp(new Date())}`;
  for (let n = 2; existsSync(previous); n++) previous = `${target}.before-restore-${stamp(new Date())}-${n}`;
  // File systems without hard links (FAT, some network shares) get a copy.
  await link(target, previous).catch(() => copyFile(target, previous, constants.COPYFILE_EXCL));
  for (const suffix of JOURNALS) if (existsSync(target + suffix)) await rename(target + suffix, previous + suffix);
  // The shared-memory index describes the old WAL; SQLite rebuilds it.
  await rm(`${target}-shm`, { force: true });
  o.log('info', `Keeping the current file as ${previous}`);
  return previous;
}
