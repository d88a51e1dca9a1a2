import type { TocFileEntry } from '../../../../shared/schemas/toc.js';
import type { TocRecorder } from '../types.js';

const BLOCK = 512;
const TYPES: Record<string, TocFileEntry['type'] | undefined> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '5': 'directory' };

/** A NUL-terminated field of a header block. */
function text(block: Buffer, from: number, length: number): string {
  const field = block.subarray(from, from + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? length : end).toString('utf8');
}

/** An octal number field, or GNU's base-256 for values that do not fit. */
function number(block: Buffer, from: number, length: number): number {
  const field = block.subarray(from, from + length);
  if (field[0]! & 0x80) {
    let n = 0;
    for (let i = 1; i < length; i++) n = n * 256 + field[i]!;
    return n;
  }
  const s = text(block, from, length).trim();
  return s ? parseInt(s, 8) || 0 : 0;
}

/** pax records ("<length> key=value\n"): only the ones that change where or what an entry is. */
function paxRecords(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const length = parseInt(data.subarray(at, space).toString('ascii'), 10);
    if (!(length > 0) || at + length > data.length) break;
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return out;
}

/**
 * Reads a tar's headers as its bytes stream past, without holding its data: each entry's path, type, size, mode, mtime,
 * link and where it starts in the uncompressed tar. pax (`x`) and GNU long names (`L`, `K`) are followed, as tar reads them.
 */
export function tarIndex(): TocRecorder & { entries: TocFileEntry[] } {
  const entries: TocFileEntry[] = [];
  let position = 0;
  /** Bytes of data (and padding) to let pass before the next header. */
  let skip = 0;
  /** The padding after a pax or long-name entry's data, skipped once that data is collected. */
  let skipAfter = 0;
  /** What is being collected: a header block, or the data of a pax or long-name entry. */
  let want = BLOCK;
  let collected: Buffer[] = [];
  let collectedBytes = 0;
  let collecting: 'header' | 'pax' | 'longname' | 'longlink' = 'header';
  let entryStart = -1;
  let pending = new Map<string, string>();
  let ended = false;

  function header(block: Buffer) {
    if (block.every((b) => b === 0)) {
      ended = true;
      return;
    }
    if (entryStart < 0) entryStart = position - BLOCK;
    const typeflag = String.fromCharCode(block[156]!);
    const size = number(block, 124, 12);
    const padded = size + ((BLOCK - (size % BLOCK)) % BLOCK);
    if (typeflag === 'x' || typeflag === 'L' || typeflag === 'K') {
      collecting = typeflag === 'x' ? 'pax' : typeflag === 'L' ? 'longname' : 'longlink';
      want = size;
      skipAfter = padded - size;
      if (size === 0) done(Buffer.alloc(0));
      return;
    }
    if (typeflag === 'g') {
      skip = padded;
      return;
    }
    const prefix = text(block, 345, 155);
    const base = text(block, 0, 100);
    let path = pending.get('path') ?? (prefix ? `${prefix}/${base}` : base);
    const type = TYPES[typeflag];
    const realSize = Number(pending.get('size') ?? size);
    const dataPadded = realSize + ((BLOCK - (realSize % BLOCK)) % BLOCK);
    if (type) {
      if (type === 'directory') path = path.replace(/\/+$/, '');
      const mtime = Number(pending.get('mtime') ?? number(block, 136, 12));
      entries.push({
        path,
        type,
        size: type === 'file' ? realSize : 0,
        mode: number(block, 100, 8) & 0o7777,
        mtime: new Date(Math.floor(mtime * 1000)).toISOString(),
        link: type === 'symlink' || type === 'hardlink' ? (pending.get('linkpath') ?? text(block, 157, 100)) : null,
        offset: entryStart,
        data: position,
      });
    }
    pending = new Map();
    entryStart = -1;
    // Only regular files (and unknown types) carry data in a tar.
    skip = type === 'file' || !type ? dataPadded : 0;
  }

  function done(data: Buffer) {
    if (collecting === 'pax') for (const [k, v] of paxRecords(data)) pending.set(k, v);
    else if (collecting === 'longname') pending.set('path', text(data, 0, data.length));
    else if (collecting === 'longlink') pending.set('linkpath', text(data, 0, data.length));
    else return header(data);
    collecting = 'header';
    want = BLOCK;
    skip = skipAfter;
    skipAfter = 0;
  }

  return {
    entries,
    observe(chunk: Buffer) {
      let i = 0;
      while (i < chunk.length && !ended) {
        if (skip > 0) {
          const n = Math.min(skip, chunk.length - i);
          skip -= n;
          i += n;
          position += n;
          continue;
        }
        const n = Math.min(want - collectedBytes, chunk.length - i);
        collected.push(chunk.subarray(i, i + n));
        collectedBytes += n;
        i += n;
        position += n;
        if (collectedBytes < want) break;
        const whole = collected.length === 1 ? Buffer.from(collected[0]!) : Buffer.concat(collected, collectedBytes);
        collected = [];
        collectedBytes = 0;
        done(whole);
      }
    },
    async finish() {
      return { kind: 'files' as const, files: entries };
    },
  };
}
