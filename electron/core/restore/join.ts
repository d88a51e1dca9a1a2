import { createHash } from 'node:crypto';
import path from 'node:path';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../../shared/errors.js';
import type { Storage } from '../storage/types.js';

/** One file of a backup on a storage, with the SHA-256 its manifest gives. */
export interface Part {
  file_path: string;
  checksum: string;
}

/** Checks a part's SHA-256 as it streams by; a mismatch fails the stream and names the part. */
function verifying(part: Part): Transform {
  const hash = createHash('sha256');
  return new Transform({
    transform(data: Buffer, _enc, done) {
      hash.update(data);
      done(null, data);
    },
    flush(done) {
      const actual = hash.digest('hex');
      done(actual === part.checksum ? null : new AppError('damaged', `${path.basename(part.file_path)} is damaged: its SHA-256 does not match the manifest`));
    },
  });
}

/**
 * Streams the parts of one copy, in order, as one artifact (what `cat part-*` gives), each part's
 * SHA-256 checked on the way; closes the storage at the end.
 */
export function joinParts(storage: Storage, parts: Part[]): Readable {
  const out = new PassThrough();
  (async () => {
    for (const part of parts) {
      await pipeline(await storage.get(part.file_path), verifying(part), out, { end: false });
    }
    out.end();
  })()
    .catch((e) => out.destroy(e))
    .finally(() => void storage.close().catch(() => undefined));
  return out;
}
