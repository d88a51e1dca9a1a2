import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { tocSchema, type Toc, type TocReference } from '../../../shared/schemas/toc.js';
import { createAgeDecrypter } from '../kernel/age.js';
import type { Storage } from '../storage/types.js';

const gunzip = promisify(zlib.gunzip);

/** A table of contents larger than this is not one of ours (36,000 files make ~1 MB). */
const MAX_STORED = 256 * 1024 * 1024;
const MAX_JSON = 2 * 1024 * 1024 * 1024 - 1;

/** A table of contents that cannot be trusted: the archive is read instead, and the user is told why. */
export class TocUnusable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TocUnusable';
  }
}

async function readAll(storage: Storage, key: string, limit: number, signal?: AbortSignal): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of await storage.get(key, { signal })) {
    total += (chunk as Buffer).length;
    if (total > limit) throw new TocUnusable('it is larger than its manifest says');
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts, total);
}

async function decrypt(data: Buffer, identities: string[]): Promise<Buffer> {
  const decrypter = createAgeDecrypter(identities);
  const out: Buffer[] = [];
  decrypter.on('data', (d: Buffer) => out.push(d));
  const ended = new Promise<void>((resolve, reject) => {
    decrypter.once('end', resolve);
    decrypter.once('error', reject);
  });
  decrypter.end(data);
  await ended;
  return Buffer.concat(out);
}

/**
 * Every offset inside the archive, frames in order from 0: a table of contents that points outside the archive would
 * make a reader seek to a place that is not there, or read another file's bytes.
 */
export function checkToc(toc: Toc, storedPayloadBytes: number | null): Toc {
  const end = toc.raw_bytes;
  for (const f of toc.files ?? []) {
    if (f.offset > end || f.data < f.offset || f.data + f.size > end) throw new TocUnusable(`the entry “${f.path.slice(0, 200)}” points outside the archive`);
  }
  for (const t of toc.tables ?? []) {
    if (t.range && (t.range[0] > t.range[1] || t.range[1] > end)) throw new TocUnusable(`the table “${t.name.slice(0, 200)}” points outside the dump`);
  }
  if (toc.frames) {
    const frames = toc.frames;
    if (frames.length === 0 || frames[0]![0] !== 0 || frames[0]![1] !== 0) throw new TocUnusable('its frame map does not start at the start');
    for (let i = 1; i < frames.length; i++) {
      if (frames[i]![0] <= frames[i - 1]![0] || frames[i]![1] <= frames[i - 1]![1]) throw new TocUnusable('its frame map is out of order');
    }
    const last = frames[frames.length - 1]!;
    if (last[0] > end || (storedPayloadBytes !== null && last[1] > storedPayloadBytes)) throw new TocUnusable('its frame map points outside the archive');
  }
  return toc;
}

/**
 * Reads a backup's table of contents from a storage and proves it: its size and SHA-256 as the catalog recorded them,
 * decrypted (when the backup is) with `identities`, every field bounded and every offset inside the archive.
 * Throws TocUnusable (or the age error when no key opens it) otherwise.
 */
export async function loadToc(
  storage: Storage,
  folder: string,
  ref: TocReference,
  o: { identities: string[] | null; storedPayloadBytes: number | null; signal?: AbortSignal },
): Promise<Toc> {
  if (ref.size_bytes > MAX_STORED) throw new TocUnusable('it is too large to be one');
  const stored = await readAll(storage, `${folder}/${ref.file}`, ref.size_bytes, o.signal).catch((e: Error) => {
    throw e instanceof TocUnusable ? e : new TocUnusable(`it cannot be read (${e.message})`);
  });
  if (stored.length !== ref.size_bytes || `sha256:${createHash('sha256').update(stored).digest('hex')}` !== ref.checksum)
    throw new TocUnusable('its checksum does not match the one recorded with the backup');
  const packed = o.identities ? await decrypt(stored, o.identities) : stored;
  let json: unknown;
  try {
    json = JSON.parse((await gunzip(packed, { maxOutputLength: MAX_JSON })).toString('utf8'));
  } catch (e) {
    throw new TocUnusable(`it is not readable (${(e as Error).message.slice(0, 120)})`);
  }
  const parsed = tocSchema.safeParse(json);
  if (!parsed.success) throw new TocUnusable(`it is not in the expected shape (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  return checkToc(parsed.data, o.storedPayloadBytes);
}
