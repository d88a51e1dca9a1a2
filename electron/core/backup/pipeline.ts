import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Compression } from '../../../shared/schemas/enums.js';
import { splitIntoParts, type PartInfo } from './chunks.js';
import { createCompressor } from './compress.js';
import { createCounter } from './hash.js';

/** A storage refused or broke a write: the runner may try the next storage. Anything else is the source's fault. */
export class StorageWriteError extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message);
    this.name = 'StorageWriteError';
  }
}

export interface WrittenArtifact {
  /** What the database or folder produced, before compression (counted, not hashed: the stored file is what gets verified). */
  raw: { bytes: number };
  /** The artifact as stored (all parts joined). */
  stored: { bytes: number; sha256: string };
  parts: PartInfo[];
}

export interface WriteArtifactOptions {
  source: Readable;
  /** The engine's own end: when the stream breaks, its error (with the tool's message) explains why. */
  finished?: Promise<unknown>;
  compression: Compression;
  level?: number;
  /** Encrypts the compressed stream (one age stream, cut into parts after): what is stored, hashed and counted is its output. */
  encrypter?: Transform;
  /** Split into `.part-NNN` files only when the stored artifact exceeds this. */
  maxPartBytes?: number;
  baseName: string;
  put: (name: string, body: Readable) => Promise<{ size: number }>;
  /** Renames a file put before (a lone `.part-001` to `baseName`); never replaces one. */
  rename: (from: string, to: string) => Promise<void>;
  signal: AbortSignal;
  onBytes?: (raw: number, stored: number) => void;
  /** Sees every raw byte the source emits, in order (the table of contents is read from them). */
  onSourceData?: (chunk: Buffer) => void;
  /** Sees each compressed frame, with its uncompressed size, in order (the frame map). */
  onFrame?: (rawBytes: number, frame: Buffer) => void;
}

function asStorageError(e: Error): never {
  throw e instanceof StorageWriteError ? e : new StorageWriteError(e);
}

/**
 * The backup pipeline, one streaming pass with backpressure end to end:
 * source (raw bytes counted) → compress → encrypt (age) → count → hash and split into parts → storage.
 */
export async function writeArtifact(o: WriteArtifactOptions): Promise<WrittenArtifact> {
  // The raw bytes are counted as the source emits them, not by a stage of their own: a dump arrives in 64 KiB
  // pieces, and each stage is a hop per piece on the main thread. Listening before the pipeline starts misses none.
  let rawBytes = 0;
  // Uncompressed and in the clear, the stored bytes are the raw bytes: no compressor and no second counter on the way.
  const compressor = o.compression === 'none' ? null : createCompressor(o.compression, o.level, o.onFrame);
  const stored = compressor || o.encrypter ? createCounter() : null;
  const storedBytes = () => (stored ? stored.bytes : rawBytes);
  o.source.on('data', (chunk: Buffer) => {
    rawBytes += chunk.length;
    o.onSourceData?.(chunk);
    o.onBytes?.(rawBytes, storedBytes());
  });
  const split = splitIntoParts({
    maxPartBytes: o.maxPartBytes,
    baseName: o.baseName,
    putPart: (name, body) => o.put(name, body).catch(asStorageError),
    renamePart: (from, to) => o.rename(from, to).catch(asStorageError),
  });
  try {
    const stages = [o.source, compressor, o.encrypter, stored, split.writable].filter((s) => s !== null && s !== undefined);
    await pipeline(stages, { signal: o.signal });
    const parts = await split.done;
    // Every artifact has bytes (a dump's header, a tar's end blocks, an SQLite page): none is a dump lost on the way.
    if (rawBytes === 0) throw new Error('The source ended without writing anything: an empty backup is not kept');
    return { raw: { bytes: rawBytes }, stored: { bytes: storedBytes(), sha256: split.sha256() }, parts };
  } catch (e) {
    const storageError = await split.done.then(
      () => undefined,
      (err: Error) => err,
    );
    if (storageError instanceof StorageWriteError && !o.signal.aborted) throw storageError;
    // A broken source stream says little; the engine's own error names the cause.
    const engineError = await Promise.race([
      o.finished?.then(
        () => undefined,
        (err: Error) => err,
      ),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000).unref()),
    ]);
    throw engineError ?? e;
  }
}
