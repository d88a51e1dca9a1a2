import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../../shared/errors.js';
import type { Compression } from '../../../shared/schemas/enums.js';
import { createDecompressor } from '../backup/compress.js';
import type { Storage } from '../storage/types.js';
import { joinParts, type Part } from './join.js';

export interface DownloadOptions {
  /** The whole artifact's SHA-256 (hex) from the manifest; null for a backup that did not record one. */
  expectedSha256: string | null;
  compression: Compression;
  /** Where the joined artifact is kept while it is checked (removed after), and where the raw one goes. */
  joinedPath: string;
  rawPath: string;
  signal: AbortSignal;
  onBytes?: (done: number) => void;
}

/**
 * Proves a copy before anything is restored from it: every part's SHA-256 and the whole artifact's
 * are checked while it is written to local disk, and only then is it decompressed to `rawPath`.
 */
export async function downloadVerified(storage: Storage, parts: Part[], o: DownloadOptions): Promise<void> {
  const whole = createHash('sha256');
  let done = 0;
  const counting = new Transform({
    transform(data: Buffer, _enc, next) {
      whole.update(data);
      done += data.length;
      o.onBytes?.(done);
      next(null, data);
    },
  });
  try {
    await pipeline(joinParts(storage, parts), counting, createWriteStream(o.joinedPath), { signal: o.signal });
    if (o.expectedSha256 && whole.digest('hex') !== o.expectedSha256)
      throw new AppError('damaged', 'The joined backup does not match the SHA-256 in its manifest');
    await pipeline(createReadStream(o.joinedPath), createDecompressor(o.compression), createWriteStream(o.rawPath), { signal: o.signal });
  } finally {
    await rm(o.joinedPath, { force: true });
  }
}
