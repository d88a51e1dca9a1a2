import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { decompress as zstdDecompress } from '@mongodb-js/zstd';
import lz4 from 'lz4';
import { AppError } from '../../../shared/errors.js';
import type { Compression } from '../../../shared/schemas/enums.js';
import type { Toc } from '../../../shared/schemas/toc.js';
import { openChunks, openPayload, sealedRange, type OpenedPayload } from '../kernel/age.js';
import type { Storage } from '../storage/types.js';

const gunzip = promisify(zlib.gunzip);
/** The most of an age header read to open the payload (ours are a few hundred bytes). */
const AGE_HEAD = 64 * 1024;
/** Without a frame map (no compression), ranges are read in pieces of this size. */
const PIECE = 4 * 1024 * 1024;

/** A backup's stored bytes as one stream over its parts, read by range. */
export interface StoredArchive {
  storage: Storage;
  /** Each part's key on the storage and size, in order. */
  parts: { key: string; size: number }[];
  compression: Compression;
  toc: Toc;
  /** An encrypted backup: the identities that open it. */
  identities: string[] | null;
  signal?: AbortSignal;
}

/**
 * Reads any byte range of a backup's uncompressed archive from the frames that hold it, and nothing else: each frame is
 * read by range requests across the parts, decrypted chunk by chunk when the backup is encrypted (each chunk
 * authenticated), checked against the SHA-256 its table of contents recorded, and decompressed alone.
 */
export function archiveReader(a: StoredArchive) {
  let bytesRead = 0;
  const total = a.parts.reduce((n, p) => n + p.size, 0);
  let payload: Promise<OpenedPayload> | null = null;

  /** Bytes `start` to `end` of the stored stream (the parts joined). */
  async function stored(start: number, end: number): Promise<Buffer> {
    if (start < 0 || end > total || start > end) throw new AppError('damaged', 'The table of contents points outside the stored backup');
    const out: Buffer[] = [];
    let base = 0;
    for (const part of a.parts) {
      const from = Math.max(start, base);
      const to = Math.min(end, base + part.size);
      if (from < to) {
        for await (const chunk of await a.storage.get(part.key, { signal: a.signal, range: { start: from - base, end: to - base } })) {
          out.push(chunk as Buffer);
          bytesRead += (chunk as Buffer).length;
        }
      }
      base += part.size;
      if (base >= end) break;
    }
    const data = Buffer.concat(out);
    if (data.length !== end - start) throw new AppError('damaged', `The storage answered ${data.length} bytes where ${end - start} were asked`);
    return data;
  }

  /** Bytes `start` to `end` of the compressed stream: the stored one, or the age payload's plaintext. */
  async function compressed(start: number, end: number): Promise<Buffer> {
    if (!a.identities) return stored(start, end);
    payload ??= stored(0, Math.min(AGE_HEAD, total)).then((head) => openPayload(head, total, a.identities!));
    const p = await payload;
    const range = sealedRange(p, start, end);
    const plain = openChunks(p, range.first, await stored(range.start, range.end));
    const offset = start - range.first * 64 * 1024;
    return plain.subarray(offset, offset + (end - start));
  }

  const compressedTotal = async () => {
    if (!a.identities) return total;
    payload ??= stored(0, Math.min(AGE_HEAD, total)).then((head) => openPayload(head, total, a.identities!));
    return (await payload).plainBytes;
  };

  async function decompress(frame: Buffer): Promise<Buffer> {
    switch (a.compression) {
      case 'zstd':
        return zstdDecompress(frame);
      case 'gzip':
        return gunzip(frame);
      case 'lz4':
        return lz4.decode(frame);
      case 'none':
        return frame;
    }
  }

  /** The uncompressed bytes `start` to `end`, frame by frame, in order. */
  async function* raw(start: number, end: number): AsyncGenerator<Buffer> {
    if (start < 0 || end > a.toc.raw_bytes || start > end) throw new AppError('damaged', 'The table of contents points outside the archive');
    const frames = a.toc.frames;
    if (!frames) {
      for (let at = start; at < end; at += PIECE) {
        a.signal?.throwIfAborted();
        yield await compressed(at, Math.min(end, at + PIECE));
      }
      return;
    }
    // The last frame that starts at or before `start`.
    let lo = 0;
    let hi = frames.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (frames[mid]![0] <= start) lo = mid;
      else hi = mid - 1;
    }
    for (let i = lo; i < frames.length && frames[i]![0] < end; i++) {
      a.signal?.throwIfAborted();
      const [rawAt, storedAt, sha] = frames[i]!;
      const storedEnd = i + 1 < frames.length ? frames[i + 1]![1] : await compressedTotal();
      const bytes = await compressed(storedAt, storedEnd);
      if (createHash('sha256').update(bytes).digest('hex') !== sha)
        throw new AppError('damaged', `A frame of the backup does not match its SHA-256 (at ${storedAt} bytes)`);
      const data = await decompress(bytes);
      const from = Math.max(0, start - rawAt);
      const to = Math.min(data.length, end - rawAt);
      if (from < to) yield data.subarray(from, to);
    }
  }

  return {
    raw,
    /** The bytes read from the storage so far. */
    get bytesRead() {
      return bytesRead;
    },
  };
}
