import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

export interface HashCounter extends Transform {
  readonly bytes: number;
  /** Hex SHA-256 of everything that passed; call after the stream finished. */
  sha256(): string;
}

/** Counts bytes as they pass, changing nothing. */
export function createCounter(): Transform & { readonly bytes: number } {
  let bytes = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  Object.defineProperty(t, 'bytes', { get: () => bytes });
  return t as Transform & { readonly bytes: number };
}

/** Counts and hashes bytes as they pass, changing nothing. */
export function createHashCounter(): HashCounter {
  const hash = createHash('sha256');
  let bytes = 0;
  let digest: string | undefined;
  const t = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  }) as HashCounter;
  Object.defineProperty(t, 'bytes', { get: () => bytes });
  t.sha256 = () => (digest ??= hash.digest('hex'));
  return t;
}
