import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { AppError } from '../../../shared/errors.js';
import type { TocFileEntry } from '../../../shared/schemas/toc.js';

/** Two zero blocks end a tar. */
const END_OF_ARCHIVE = Buffer.alloc(1024);
const padded = (size: number) => size + ((512 - (size % 512)) % 512);

/**
 * The entries the user chose, in archive order: each path names an entry of the backup, and a folder brings everything
 * below it. A path the backup does not hold is refused, naming it.
 */
export function chosenEntries(files: TocFileEntry[], paths: string[]): TocFileEntry[] {
  const wanted = new Set(paths);
  const known = new Set(files.map((f) => f.path));
  const missing = paths.find((p) => !known.has(p));
  if (missing !== undefined) throw new AppError('not_found', `“${missing.slice(0, 300)}” is not in this backup`);
  return files.filter((f) => {
    if (wanted.has(f.path)) return true;
    for (let cut = f.path.indexOf('/'); cut > 0; cut = f.path.indexOf('/', cut + 1)) if (wanted.has(f.path.slice(0, cut))) return true;
    return false;
  });
}

/** The archive's byte ranges that hold `entries` (headers, data and padding), adjacent ones joined into one read. */
export function rangesOf(entries: TocFileEntry[]): [number, number][] {
  const out: [number, number][] = [];
  for (const e of [...entries].sort((a, b) => a.offset - b.offset)) {
    const end = e.data + (e.type === 'file' ? padded(e.size) : 0);
    const last = out[out.length - 1];
    if (last && last[1] === e.offset) last[1] = end;
    else out.push([e.offset, end]);
  }
  return out;
}

/**
 * A tar of the chosen entries alone, made of the archive's own bytes (its headers and data, as the backup wrote
 * them), so that a partial restore goes through the very checks and extraction of a whole one.
 */
export async function writeChosenTar(read: (start: number, end: number) => AsyncIterable<Buffer>, entries: TocFileEntry[], file: string): Promise<void> {
  const out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
  const closed = once(out, 'close');
  try {
    for (const [start, end] of rangesOf(entries)) {
      for await (const piece of read(start, end)) if (!out.write(piece)) await once(out, 'drain');
    }
    out.end(END_OF_ARCHIVE);
    await closed;
  } catch (e) {
    out.destroy();
    throw e;
  }
}

/** Reads a byte range of a local file: the archive of a backup read whole. */
export async function* fileRange(path: string, start: number, end: number): AsyncGenerator<Buffer> {
  if (end <= start) return;
  for await (const chunk of createReadStream(path, { start, end: end - 1, highWaterMark: 1024 * 1024 })) yield chunk as Buffer;
}

/** Whether the tar made for the restore holds exactly the chosen entries: a table of contents pointing at other bytes is caught here. */
export function sameEntries(found: TocFileEntry[], chosen: TocFileEntry[]): boolean {
  return found.length === chosen.length && found.every((f, i) => f.path === chosen[i]!.path && f.type === chosen[i]!.type && f.size === chosen[i]!.size);
}
