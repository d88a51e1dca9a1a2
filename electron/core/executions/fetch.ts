import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../../shared/errors.js';
import { COMPRESSIONS, type Compression } from '../../../shared/schemas/enums.js';
import { joinParts, locateBackup, type LocatedCopy } from '../backup/artifact.js';
import { createDecompressor } from '../backup/compress.js';
import type { Progress, Say } from '../backup/report.js';
import type { ExecutionRow } from '../db/entities.js';
import type { ServiceContext } from '../services/context.js';
import { openSavedStorage } from '../services/storages.js';

export interface FetchedBackup {
  backup: ExecutionRow;
  /** The raw artifact (a pg_dump file, SQL, an SQLite file, a tar), decompressed and verified. */
  rawPath: string;
  copy: { storage_location_id: string; storage_name: string };
  cleanup(): Promise<void>;
}

export interface FetchOptions {
  /** Only this storage's copy; otherwise each completed copy in turn until one verifies. */
  storageId?: string | null;
  tempDir: string;
  signal: AbortSignal;
  say: Say;
  progress: Progress;
}

/**
 * Brings a backup to local disk and proves it before anything else happens: every part's SHA-256
 * against the catalog and the whole artifact's against the manifest's checksum, then decompresses it.
 * A copy that fails is named and the next one tried. The target is not touched here.
 */
export async function fetchVerified(ctx: Pick<ServiceContext, 'db' | 'secrets'>, backupId: string, o: FetchOptions): Promise<FetchedBackup> {
  const { execution: backup, copies } = await locateBackup(ctx, backupId);
  const chosen = o.storageId ? copies.filter((c) => c.storage.id === o.storageId) : copies;
  if (chosen.length === 0) {
    throw new AppError('not_found', o.storageId ? 'This backup has no completed copy on the chosen storage' : 'This backup has no completed copy on any storage');
  }
  const compression = backup.metadata?.compression as Compression | undefined;
  if (!compression || !COMPRESSIONS.includes(compression)) throw new AppError('validation_error', 'This backup does not say how it was compressed');
  const expected = typeof backup.metadata?.checksum === 'string' ? backup.metadata.checksum.replace(/^sha256:/, '') : null;
  const total = chosen[0]!.chunks.reduce((n, c) => n + Number(c.size_bytes), 0);

  const dir = await mkdtemp(path.join(o.tempDir, 'dataguardian-restore-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const failures: string[] = [];
  try {
    for (const copy of chosen) {
      o.signal.throwIfAborted();
      const joined = path.join(dir, 'artifact');
      try {
        o.say('info', `Downloading ${copy.chunks.length} file(s) from ${copy.storage.name} and checking their SHA-256`);
        await download(ctx, copy, joined, expected, total, o);
        const rawPath = path.join(dir, 'raw');
        o.say('info', `Checksums match; decompressing (${compression})`);
        await pipeline(createReadStream(joined), createDecompressor(compression), createWriteStream(rawPath), { signal: o.signal });
        await rm(joined, { force: true });
        return { backup, rawPath, copy: { storage_location_id: copy.storage.id, storage_name: copy.storage.name }, cleanup };
      } catch (e) {
        if (o.signal.aborted) throw e;
        const reason = (e as Error).message;
        failures.push(`${copy.storage.name}: ${reason}`);
        o.say('warn', `The copy on ${copy.storage.name} cannot be used: ${reason}`);
        await rm(joined, { force: true });
      }
    }
    throw new AppError('conflict', `No copy of this backup passed verification (${failures.join('; ')}). Nothing was restored.`);
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/** Every part of one copy, in order, into one local file; each part's hash and the whole file's are checked. */
async function download(ctx: Pick<ServiceContext, 'db' | 'secrets'>, copy: LocatedCopy, file: string, expected: string | null, total: number, o: FetchOptions) {
  const whole = createHash('sha256');
  let done = 0;
  const counting = new Transform({
    transform(data: Buffer, _enc, next) {
      whole.update(data);
      done += data.length;
      o.progress({ stage: 'download', bytes_raw: done, bytes_stored: done, total_raw_estimate: total });
      next(null, data);
    },
  });
  await pipeline(joinParts(openSavedStorage(ctx, copy.storage), copy.chunks), counting, createWriteStream(file), { signal: o.signal });
  if (expected && whole.digest('hex') !== expected) throw new AppError('conflict', 'The joined backup does not match the SHA-256 in its manifest');
}
