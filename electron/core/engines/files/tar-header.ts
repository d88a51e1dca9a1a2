// The POSIX tar (ustar + pax) headers a folder backup is written with, read by GNU tar, bsdtar and tar-stream.

export interface TarEntry {
  /** Relative path with `/` separators; a directory's ends with `/`. */
  name: string;
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  size: number;
  linkname?: string;
}

const BLOCK = 512;
/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);

const TYPEFLAG = { file: '0', symlink: '2', directory: '5' } as const;
const MAX_ID = 0o7777777;
const MAX_SIZE = 0o77777777777;

/** Zero bytes that bring `size` bytes of data to a whole number of blocks. */
export function paddingAfter(size: number): Buffer {
  const rest = size % BLOCK;
  return rest ? Buffer.alloc(BLOCK - rest) : Buffer.alloc(0);
}

/** `value` in octal on `width - 1` digits, then NUL. Digit by digit: thousands of small files spend a visible share of their backup here. */
function octal(block: Buffer, offset: number, width: number, value: number) {
  let rest = Math.floor(value);
  for (let i = offset + width - 2; i >= offset; i--) {
    block[i] = 0x30 + (rest % 8);
    rest = Math.floor(rest / 8);
  }
  block[offset + width - 1] = 0;
}

/** A pax record: "<length> <key>=<value>\n", where the length counts its own digits. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bytes = Buffer.byteLength(body);
  let length = bytes + String(bytes).length;
  if (String(length).length > String(bytes).length) length++;
  return `${length}${body}`;
}

/** The ustar name and prefix for `name`, or null when it fits neither (then a pax `path` record carries it). */
function splitName(name: string): { name: string; prefix: string } | null {
  if (Buffer.byteLength(name) <= 100) return { name, prefix: '' };
  for (let cut = name.indexOf('/'); cut > 0; cut = name.indexOf('/', cut + 1)) {
    const prefix = name.slice(0, cut);
    const rest = name.slice(cut + 1);
    if (Buffer.byteLength(prefix) > 155) break;
    if (rest && Buffer.byteLength(rest) <= 100) return { name: rest, prefix };
  }
  return null;
}

const MAGIC = Buffer.from('ustar\x0000', 'ascii');
const SPACE = 0x20;

/** One ustar block for `e`, under `name` and `prefix` (the parts of `e.name` that fit). */
function ustar(e: TarEntry, name: string, prefix: string, typeflag: string): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, 'utf8');
  octal(block, 100, 8, e.mode & 0o7777);
  octal(block, 108, 8, e.uid <= MAX_ID ? e.uid : 0);
  octal(block, 116, 8, e.gid <= MAX_ID ? e.gid : 0);
  octal(block, 124, 12, e.size <= MAX_SIZE ? e.size : 0);
  octal(block, 136, 12, Math.max(0, e.mtime.getTime() / 1000));
  block[156] = typeflag.charCodeAt(0);
  if (e.linkname) block.write(e.linkname, 157, 100, 'utf8');
  MAGIC.copy(block, 257);
  if (prefix) block.write(prefix, 345, 155, 'utf8');
  // The checksum is computed with its own field read as eight spaces; it is written as six digits, NUL, space.
  block.fill(SPACE, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += block[i]!;
  octal(block, 148, 7, sum);
  return block;
}

/** The header block(s) of one entry: a pax extended header first when a name, link, size or owner does not fit ustar. */
export function tarHeader(e: TarEntry): Buffer {
  const split = splitName(e.name);
  const records: string[] = [];
  if (!split) records.push(paxRecord('path', e.name));
  if (e.linkname && Buffer.byteLength(e.linkname) > 100) records.push(paxRecord('linkpath', e.linkname));
  if (e.size > MAX_SIZE) records.push(paxRecord('size', String(e.size)));
  if (e.uid > MAX_ID) records.push(paxRecord('uid', String(e.uid)));
  if (e.gid > MAX_ID) records.push(paxRecord('gid', String(e.gid)));
  const header = split ? ustar(e, split.name, split.prefix, TYPEFLAG[e.type]) : ustar(e, e.name.slice(0, 99), '', TYPEFLAG[e.type]);
  if (records.length === 0) return header;
  const pax = Buffer.from(records.join(''), 'utf8');
  const paxHeader = ustar({ ...e, type: 'file', size: pax.length, linkname: undefined }, 'PaxHeader', '', 'x');
  return Buffer.concat([paxHeader, pax, paddingAfter(pax.length), header]);
}
