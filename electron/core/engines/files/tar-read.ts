// Reads a tar as its bytes stream past: one parser for the table of contents (headers only) and for the restore
// (headers and each file's data), with no stream or promise per entry (thousands of small files would each pay for them).

const BLOCK = 512;

/** What an entry is, by its typeflag; null for what a folder restore never makes (devices, FIFOs, unknown flags). */
const TYPES: Record<string, TarRead['type'] | undefined> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '5': 'directory' };

export interface TarRead {
  /** The path as the archive spells it (pax `path` and GNU long names applied); a folder's may end with `/`. */
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | null;
  /** The header's typeflag, as written (`3` a character device, `6` a FIFO…). */
  typeflag: string;
  size: number;
  mode: number;
  /** Seconds since the epoch (a pax `mtime` may have a fraction). */
  mtime: number;
  linkname: string | null;
  /** Where the entry's first header (a pax one, if any) starts, and where its data starts, in the uncompressed tar. */
  offset: number;
  data: number;
}

export interface TarVisitor {
  entry(header: TarRead): void;
  /** The next bytes of the current file's data; the buffer is only valid during the call. */
  data?(chunk: Buffer): void;
  /** The current file's data is complete (called for an empty file too). */
  end?(): void;
}

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

/** A header block's checksum matches (unsigned as POSIX says, or signed as some old tars wrote it). */
function checksumMatches(block: Buffer): boolean {
  let unsigned = 8 * 0x20;
  let signed = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    const b = block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  const recorded = number(block, 148, 8);
  return recorded === unsigned || recorded === signed;
}

/** pax records ("<length> key=value\n"). */
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
 * Feeds a tar's bytes, in pieces of any size, to `visitor`. pax (`x`) and GNU long names (`L`, `K`) are followed, as tar
 * reads them; a header whose checksum does not match stops the reading with an error. `finish` says whether the bytes
 * ended inside an entry.
 */
export function tarReader(visitor: TarVisitor) {
  let position = 0;
  /** Bytes of data (and padding) to let pass before the next header. */
  let skip = 0;
  /** Of `skip`, the data bytes handed to `visitor.data` (a file's), before its padding. */
  let dataLeft = 0;
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
    if (!checksumMatches(block)) throw new Error(`The archive is damaged: the header at byte ${position - BLOCK} is not a tar header`);
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
    const type = TYPES[typeflag] ?? null;
    const realSize = Number(pending.get('size') ?? size);
    const dataPadded = realSize + ((BLOCK - (realSize % BLOCK)) % BLOCK);
    const entry: TarRead = {
      name: pending.get('path') ?? (prefix ? `${prefix}/${base}` : base),
      type,
      typeflag,
      size: type === 'file' ? realSize : 0,
      mode: number(block, 100, 8) & 0o7777,
      mtime: Number(pending.get('mtime') ?? number(block, 136, 12)),
      linkname: type === 'symlink' || type === 'hardlink' ? (pending.get('linkpath') ?? text(block, 157, 100)) : null,
      offset: entryStart,
      data: position,
    };
    pending = new Map();
    entryStart = -1;
    // Only regular files (and unknown types) carry data in a tar.
    skip = type === 'file' || !type ? dataPadded : 0;
    dataLeft = type === 'file' ? realSize : 0;
    visitor.entry(entry);
    if (type === 'file' && realSize === 0) visitor.end?.();
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
    observe(chunk: Buffer) {
      let i = 0;
      while (i < chunk.length && !ended) {
        if (skip > 0) {
          const n = Math.min(skip, chunk.length - i);
          if (dataLeft > 0) {
            const d = Math.min(dataLeft, n);
            visitor.data?.(chunk.subarray(i, i + d));
            dataLeft -= d;
            if (dataLeft === 0) visitor.end?.();
          }
          skip -= n;
          i += n;
          position += n;
          continue;
        }
        if (collectedBytes === 0 && chunk.length - i >= want) {
          // Whole in this piece (the usual case): read in place, as nothing keeps a header's bytes once it is read.
          const whole = chunk.subarray(i, i + want);
          i += want;
          position += want;
          done(whole);
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
    /** Whether the end-of-archive blocks were seen. */
    get ended() {
      return ended;
    },
    /** The bytes stopped in the middle of an entry (a header, its pax records or its data). */
    get cut() {
      return !ended && (skip > 0 || collectedBytes > 0 || collecting !== 'header' || entryStart >= 0);
    },
  };
}
