import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline as pipe, Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../../shared/errors.js';
import type { Compression } from '../../../shared/schemas/enums.js';
import { createDecompressor } from '../backup/compress.js';
import type { RestoreSource } from '../engines/types.js';
import { AgeError, createAgeDecrypter } from '../kernel/age.js';
import type { Storage } from '../storage/types.js';
import { joinParts, type Part } from './join.js';

export interface ProveOptions {
  /** The whole artifact's SHA-256 (hex) from the manifest; null for a backup that did not record one. */
  expectedSha256: string | null;
  compression: Compression;
  /** An encrypted backup: the age identities that may open it (for this run only; never written anywhere). */
  identities?: string[];
  /** The artifact's size as the backup wrote it (its manifest's total_size_bytes); null when not recorded. */
  expectedBytes?: number | null;
  /** The run's private folder (0700): a remote copy's stored bytes, and the decoded artifact if a tool asks for a file. */
  dir: string;
  signal: AbortSignal;
  onBytes?: (done: number) => void;
}

// Storages answer in 64 KiB reads; the decoders work far faster on 1 MiB (a zstd frame is then found in one or two buffers).
const BATCH = 1 << 20;

/**
 * Proves a copy before anything is restored from it, then hands it out as a restore source. Every part
 * is read once and its SHA-256 and the whole artifact's are checked: on the stored bytes (compressed,
 * encrypted), which are much smaller than the artifact. A folder storage's parts are read where they
 * are; another storage's are downloaded into the private folder as they are hashed, so they are read
 * from the storage once. Then the artifact's head is decoded: the key opens it and its compression is
 * the one recorded. Only then does this resolve; nothing but the private folder was written.
 *
 * The source decodes (decrypts, decompresses) the proven bytes as a restore reads them: the artifact
 * is never staged whole unless a tool must seek in it (`file()`). A folder storage's parts are checked
 * again as they are read: a part changed since it was proven fails the restore instead of feeding it.
 */
export async function proveCopy(storage: Storage, parts: Part[], o: ProveOptions): Promise<RestoreSource> {
  // One part is the whole file: its own checksum, checked in joinParts, is then the whole file's too.
  const whole = parts.length === 1 && parts[0]!.checksum === o.expectedSha256 ? null : createHash('sha256');
  const inPlace = storage.type === 'local';
  const storedPath = path.join(o.dir, 'stored');
  let done = 0;
  const hashed = new Transform({
    transform(data: Buffer, _enc, next) {
      whole?.update(data);
      done += data.length;
      o.onBytes?.(done);
      next(null, inPlace ? undefined : data);
    },
  });
  const sink = inPlace ? new Writable({ write: (_data, _enc, next) => next() }) : createWriteStream(storedPath, { mode: 0o600, flags: 'wx' });
  try {
    await pipeline(joinParts(storage, parts), hashed, sink, { signal: o.signal });
    if (o.expectedSha256 && whole && whole.digest('hex') !== o.expectedSha256)
      throw new AppError('damaged', 'The joined backup does not match the SHA-256 in its manifest');
  } catch (e) {
    await rm(storedPath, { force: true });
    throw e;
  }

  const stored = (): Readable => (inPlace ? joinParts(storage, parts) : createReadStream(storedPath, { highWaterMark: BATCH }));
  const source = decodedSource(stored, o);
  try {
    // The first decoded bytes: the key opens the file and the decompressor knows its format.
    for await (const first of source.open()) if (first) break;
  } catch (e) {
    await rm(storedPath, { force: true });
    if (e instanceof AgeError && e.reason === 'key') throw e;
    if (e instanceof AgeError) throw new AppError('damaged', `Every checksum matches, but the backup cannot be decrypted: ${e.message}`);
    throw new AppError('damaged', `Every checksum matches, but the backup cannot be decompressed (${o.compression}): ${(e as Error).message}`);
  }
  return source;
}

/** The artifact decoded from `stored` (the joined stored bytes) as it is read; `file()` writes it once into the private folder. */
function decodedSource(stored: () => Readable, o: Pick<ProveOptions, 'compression' | 'identities' | 'expectedBytes' | 'dir' | 'signal'>): RestoreSource {
  const open = (): Readable => {
    const decoders = [
      ...(o.identities ? [createAgeDecrypter(o.identities)] : []),
      createDecompressor(o.compression),
      ...(o.expectedBytes === null || o.expectedBytes === undefined ? [] : [ofSize(o.expectedBytes)]),
    ];
    // Errors reach the last stream, which the restore reads: it fails with the decoder's message.
    return pipe([stored(), batched(), ...decoders], () => undefined) as unknown as Readable;
  };
  let staged: Promise<string> | undefined;
  const file = () => {
    const rawPath = path.join(o.dir, 'raw');
    staged ??= pipeline(open(), createWriteStream(rawPath, { mode: 0o600, flags: 'wx', highWaterMark: BATCH }), { signal: o.signal }).then(() => rawPath);
    return staged;
  };
  return { open, file };
}

/**
 * Passes the decoded artifact on and fails before its end when it is not the size the backup wrote: the checksums
 * prove the stored bytes, this proves what they decoded to (a decoder that lost a frame, a dump stored empty), so
 * a restore reading it fails (one transaction: rolled back) instead of completing short.
 */
function ofSize(expected: number): Transform {
  let seen = 0;
  return new Transform({
    transform(data: Buffer, _enc, next) {
      seen += data.length;
      if (seen > expected) return next(new Error(`it decodes to more than the ${expected} bytes the backup wrote`));
      next(null, data);
    },
    flush(next) {
      next(seen === expected ? null : new Error(`it decodes to ${seen} bytes, the backup wrote ${expected}`));
    },
  });
}

/** Gathers small reads into 1 MiB writes. */
function batched(): Transform {
  let batch: Buffer[] = [];
  let size = 0;
  const flush = () => {
    const data = Buffer.concat(batch, size);
    batch = [];
    size = 0;
    return data;
  };
  return new Transform({
    transform(data: Buffer, _enc, next) {
      batch.push(data);
      size += data.length;
      next(null, size >= BATCH ? flush() : undefined);
    },
    flush(next) {
      next(null, size ? flush() : undefined);
    },
  });
}
