import { Transform } from 'node:stream';

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
