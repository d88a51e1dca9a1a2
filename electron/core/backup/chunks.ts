import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { partName } from './layout.js';

export interface PartInfo {
  number: number;
  /** File name inside the execution folder: backup.dump.gz.part-001, or backup.dump.gz when the artifact is one file. */
  file: string;
  size: number;
  /** Hex SHA-256 of this part. */
  sha256: string;
}

export interface SplitOptions {
  /**
   * Split into `.part-NNN` files of at most this size when the artifact is larger; an artifact
   * that fits (or no limit) is one file named `baseName`, as the seed names it.
   */
  maxPartBytes?: number;
  baseName: string;
  putPart: (name: string, body: Readable) => Promise<{ size: number }>;
  /** Renames a stored part; never replaces an existing file. */
  renamePart: (from: string, to: string) => Promise<void>;
}

/**
 * The end of the pipeline: hashes each part and the whole artifact, and streams each part to storage as it is produced (never a whole part in
 * memory), one part at a time, so a slow storage slows the dump instead of filling memory.
 *
 * Whether the artifact exceeds the limit is known only at its end, so with a limit the first part
 * is always written as `.part-001`, and renamed to `baseName` when it turns out to be the only one.
 */
export function splitIntoParts(o: SplitOptions): { writable: Writable; done: Promise<PartInfo[]>; sha256(): string } {
  const parts: PartInfo[] = [];
  // The first part's hash is the whole artifact's hash so far: it is copied when that part ends, and only the bytes
  // of later parts are hashed twice (a one-part artifact, the common case, is hashed once).
  let whole: Hash | undefined;
  let current: { pass: PassThrough; hash: Hash; size: number; put: Promise<unknown>; number: number } | undefined;
  let resolveDone!: (p: PartInfo[]) => void;
  let rejectDone!: (e: Error) => void;
  const done = new Promise<PartInfo[]>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  done.catch(() => undefined);

  const fileOf = (n: number) => (o.maxPartBytes ? partName(o.baseName, n) : o.baseName);

  function open() {
    const number = parts.length + 1;
    const pass = new PassThrough({ highWaterMark: 1024 * 1024 });
    const put = o.putPart(fileOf(number), pass);
    put.catch(() => undefined);
    current = { pass, hash: createHash('sha256'), size: 0, put, number };
    return current;
  }

  async function close() {
    const part = current!;
    current = undefined;
    part.pass.end();
    if (o.maxPartBytes) whole ??= part.hash.copy();
    await part.put;
    parts.push({ number: part.number, file: fileOf(part.number), size: part.size, sha256: part.hash.digest('hex') });
  }

  async function write(chunk: Buffer) {
    let rest = chunk;
    while (rest.length > 0) {
      const part = current ?? open();
      const room = o.maxPartBytes ? o.maxPartBytes - part.size : rest.length;
      const piece = rest.subarray(0, room);
      rest = rest.subarray(piece.length);
      part.hash.update(piece);
      whole?.update(piece);
      part.size += piece.length;
      if (!part.pass.write(piece)) {
        // Wait for the storage to take more — or for it to fail, which ends the wait too.
        await Promise.race([once(part.pass, 'drain'), part.put.then(() => Promise.reject(new Error('The storage stopped reading before the part ended')))]);
      }
      if (o.maxPartBytes && part.size >= o.maxPartBytes) await close();
    }
  }

  const writable = new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _enc, cb) {
      write(chunk).then(() => cb(), cb);
    },
    final(cb) {
      // An empty artifact is still one (empty) file, so the manifest always lists something.
      if (!current && parts.length === 0) open();
      (async () => {
        if (current) await close();
        const only = parts.length === 1 ? parts[0] : undefined;
        if (only && only.file !== o.baseName) {
          await o.renamePart(only.file, o.baseName);
          only.file = o.baseName;
        }
      })().then(() => {
        resolveDone(parts);
        cb();
      }, cb);
    },
    destroy(error, cb) {
      if (current) current.pass.destroy(error ?? new Error('The backup stopped'));
      if (error) rejectDone(error);
      else if (!writable.writableFinished) rejectDone(new Error('The backup stopped before its end'));
      // The storage's own failure (if any) is the more useful error.
      (current?.put ?? Promise.resolve()).then(
        () => cb(error),
        (putError: Error) => cb(putError ?? error),
      );
    },
  });
  writable.on('error', (e) => rejectDone(e));
  /** The whole artifact's SHA-256, once `done` has resolved. */
  const sha256 = () => (whole ? whole.digest('hex') : parts[0]!.sha256);
  return { writable, done, sha256 };
}
