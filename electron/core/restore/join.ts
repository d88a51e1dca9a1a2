import { createHash } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import { AppError } from '../../../shared/errors.js';
import type { Storage } from '../storage/types.js';

/** One file of a backup on a storage, with the SHA-256 its manifest gives. */
export interface Part {
  file_path: string;
  checksum: string;
}

/** The parts in order, each part's SHA-256 checked as it streams by; a mismatch fails the stream and names the part. */
async function* partsInOrder(storage: Storage, parts: Part[]): AsyncGenerator<Buffer> {
  for (const part of parts) {
    const hash = createHash('sha256');
    for await (const data of await storage.get(part.file_path)) {
      hash.update(data as Buffer);
      yield data as Buffer;
    }
    if (hash.digest('hex') !== part.checksum)
      throw new AppError('damaged', `${path.basename(part.file_path)} is damaged: its SHA-256 does not match the manifest`);
  }
}

/**
 * Streams the parts of one copy, in order, as one artifact (what `cat part-*` gives), each part's
 * SHA-256 checked on the way; closes the storage at the end.
 */
export function joinParts(storage: Storage, parts: Part[]): Readable {
  const joined = Readable.from(partsInOrder(storage, parts), { objectMode: false });
  // On 'close' rather than in the generator: a stream destroyed before its first read never runs the generator's code.
  joined.once('close', () => void storage.close().catch(() => undefined));
  return joined;
}
