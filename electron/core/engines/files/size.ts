import { statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Filter } from './filter.js';
import { Pace, Turns } from './pace.js';

function sizeNow(full: string): number {
  try {
    return statSync(full).size;
  } catch {
    // Gone or unreadable: the backup itself says so.
    return 0;
  }
}
const sizeThroughPool = (full: string) =>
  stat(full).then(
    (s) => s.size,
    () => 0,
  );

/**
 * The bytes the backup will read, for the progress bar. One stat per file, synchronous like the backup's own reads (the
 * folder's readdir has just answered) and as cheap, in turns; on a slow disk the rest of a folder is stat'ed together
 * through the pool.
 */
export async function folderSize(dir: string, filter: Filter, signal: AbortSignal, turns = new Turns(), prefix = ''): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const pace = new Pace();
  const later: Promise<number>[] = [];
  let bytes = 0;
  for (const entry of entries) {
    signal.throwIfAborted();
    const full = path.join(dir, entry.name);
    // Relative to the source folder, with `/` (as the patterns are written).
    const rel = prefix + entry.name;
    if (filter.exclude(rel)) continue;
    if (entry.isDirectory()) bytes += await folderSize(full, filter, signal, turns, `${rel}/`);
    else if (!entry.isFile() || !filter.include(rel)) continue;
    else if (pace.slow) later.push(sizeThroughPool(full));
    else {
      const started = performance.now();
      bytes += sizeNow(full);
      pace.record(performance.now() - started);
      await turns.breathe();
    }
  }
  for (const size of await Promise.all(later)) bytes += size;
  return bytes;
}

/**
 * The files and bytes a backup of the folder would take, for a connection test ("55 files, 8.7 MB"):
 * counted until `budgetMs` has passed, then reported as a lower bound (`complete: false`), so a huge
 * share never holds up a test or a health check.
 */
export async function folderTally(dir: string, filter: Filter, budgetMs: number): Promise<{ files: number; bytes: number; complete: boolean }> {
  const deadline = performance.now() + budgetMs;
  const tally = { files: 0, bytes: 0, complete: true };
  const walk = async (folder: string, prefix: string): Promise<void> => {
    if (performance.now() > deadline) {
      tally.complete = false;
      return;
    }
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    const sizes: Promise<void>[] = [];
    for (const entry of entries) {
      const rel = prefix + entry.name;
      if (filter.exclude(rel)) continue;
      if (entry.isDirectory()) await walk(path.join(folder, entry.name), `${rel}/`);
      else if (entry.isFile() && filter.include(rel)) {
        tally.files++;
        sizes.push(sizeThroughPool(path.join(folder, entry.name)).then((size) => void (tally.bytes += size)));
      }
      if (!tally.complete) break;
    }
    await Promise.all(sizes);
  };
  await walk(dir, '');
  return tally;
}
