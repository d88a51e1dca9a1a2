import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../../shared/errors.js';
import type { Compression } from '../../../shared/schemas/enums.js';
import { createDecompressor } from '../backup/compress.js';
import { AgeError, createAgeDecrypter } from '../kernel/age.js';
import type { Storage } from '../storage/types.js';
import { joinParts, type Part } from './join.js';

export interface DownloadOptions {
  /** The whole artifact's SHA-256 (hex) from the manifest; null for a backup that did not record one. */
  expectedSha256: string | null;
  compression: Compression;
  /** An encrypted backup: the age identities that may open it (for this run only; never written anywhere). */
  identities?: string[];
  /** The staging file: the decompressed artifact, kept only when every checksum matched. */
  rawPath: string;
  signal: AbortSignal;
  onBytes?: (done: number) => void;
}

// Large writes: the staging file is written at disk speed rather than in 64 KiB steps.
const WRITE_BUFFER = 1 << 20;

/**
 * Proves a copy before anything is restored from it, in one pass: each part is read once, its SHA-256
 * and the whole artifact's are computed as it streams, and the same bytes are decompressed into the
 * staging file `rawPath` (decrypted first when the backup is encrypted). The staging file is not the target: only when every checksum matched does
 * this resolve, and on any mismatch the staging file is removed and nothing else was written.
 *
 * A damaged part usually breaks the decompressor before its own checksum can be read; the rest is then
 * still read and hashed, so the error names the damaged part rather than a decoder's complaint.
 */
export async function downloadVerified(storage: Storage, parts: Part[], o: DownloadOptions): Promise<void> {
  // One part is the whole file: its own checksum, checked in joinParts, is then the whole file's too.
  const whole = parts.length === 1 && parts[0]!.checksum === o.expectedSha256 ? null : createHash('sha256');
  let done = 0;
  const decompress = createDecompressor(o.compression);
  const decrypt = o.identities ? createAgeDecrypter(o.identities) : null;
  // What the joined parts are written into: the decrypter, or straight the decompressor.
  const decoder = decrypt ?? decompress;
  const sinkFile = createWriteStream(o.rawPath, { highWaterMark: WRITE_BUFFER });
  const decoded = decrypt ? pipeline(decrypt, decompress, sinkFile, { signal: o.signal }) : pipeline(decompress, sinkFile, { signal: o.signal });
  let decodeError: Error | undefined;
  const decoding = decoded.catch((e: Error) => {
    decodeError = e;
  });
  // Resolves when the decoder takes more input or when it failed: a write waiting for 'drain' must not hang on a dead decoder.
  const room = () => Promise.race([new Promise((resolve) => decoder.once('drain', resolve)), decoding]);
  // Storages answer in 64 KiB reads; the decoders work far faster on 1 MiB (a zstd frame is then found in one or two buffers).
  let batch: Buffer[] = [];
  let batched = 0;
  const feed = (next: (e?: Error | null) => void) => {
    const data = batch.length === 1 ? batch[0]! : Buffer.concat(batch, batched);
    batch = [];
    batched = 0;
    // No key here opens it: reading on would prove nothing more.
    if (decodeError instanceof AgeError && decodeError.reason === 'key') return next(decodeError);
    if (decodeError || decoder.write(data)) return next();
    room().then(() => next(), next);
  };
  const sink = new Writable({
    highWaterMark: WRITE_BUFFER,
    write(data: Buffer, _enc, next) {
      whole?.update(data);
      done += data.length;
      o.onBytes?.(done);
      batch.push(data);
      batched += data.length;
      if (batched < WRITE_BUFFER) return next();
      feed(next);
    },
    final(next) {
      const end = () => {
        if (!decodeError) decoder.end();
        decoding.then(() => next(), next);
      };
      if (batched) feed(end);
      else end();
    },
    destroy(error, next) {
      if (error) decoder.destroy();
      next(error);
    },
  });
  try {
    await pipeline(joinParts(storage, parts), sink, { signal: o.signal });
    if (o.expectedSha256 && whole && whole.digest('hex') !== o.expectedSha256)
      throw new AppError('damaged', 'The joined backup does not match the SHA-256 in its manifest');
    if (decodeError instanceof AgeError) throw new AppError('damaged', `Every checksum matches, but the backup cannot be decrypted: ${decodeError.message}`);
    if (decodeError) throw new AppError('damaged', `Every checksum matches, but the backup cannot be decompressed (${o.compression}): ${decodeError.message}`);
  } catch (e) {
    await decoding;
    await rm(o.rawPath, { force: true });
    throw e;
  }
}
