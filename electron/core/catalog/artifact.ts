import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { In } from 'typeorm';
import { AppError } from '../../../shared/errors.js';
import { BackupChunks, BackupCopies, BackupExecutions, StorageLocations, type ChunkRow, type ExecutionRow, type StorageRow } from '../db/entities.js';
import type { ServiceContext } from '../services/context.js';
import { openSavedStorage } from '../services/storages.js';
import type { Storage } from '../storage/types.js';

export interface Artifact {
  /** The file name a user would expect, e.g. backup.dump.gz. */
  fileName: string;
  size: number;
  stream: Readable;
}

/** Checks a part's SHA-256 as it streams by; a mismatch fails the stream and names the part. */
function verifying(chunk: ChunkRow): Transform {
  const hash = createHash('sha256');
  return new Transform({
    transform(data: Buffer, _enc, done) {
      hash.update(data);
      done(null, data);
    },
    flush(done) {
      const actual = hash.digest('hex');
      done(actual === chunk.checksum ? null : new AppError('conflict', `${path.basename(chunk.file_path)} is damaged: its SHA-256 does not match the manifest`));
    },
  });
}

/**
 * Streams the parts of one copy, in order, as one artifact (what `cat part-*` gives), each part's
 * SHA-256 checked on the way; closes the storage at the end.
 */
export function joinParts(storage: Storage, chunks: ChunkRow[]): Readable {
  const out = new PassThrough();
  (async () => {
    for (const chunk of chunks) {
      await pipeline(await storage.get(chunk.file_path), verifying(chunk), out, { end: false });
    }
    out.end();
  })()
    .catch((e) => out.destroy(e))
    .finally(() => void storage.close().catch(() => undefined));
  return out;
}

/** One storage's copy of a backup, with its parts' paths on that storage, in order. */
export interface LocatedCopy {
  storage: StorageRow;
  chunks: ChunkRow[];
}

/** A completed backup and where its copies are, in the order they were written. */
export async function locateBackup(ctx: Pick<ServiceContext, 'db'>, executionId: string): Promise<{ execution: ExecutionRow; copies: LocatedCopy[] }> {
  const execution = await ctx.db.getRepository(BackupExecutions).findOneBy({ id: executionId });
  if (!execution) throw new AppError('not_found', `Backup ${executionId} does not exist`);
  if (execution.status !== 'completed' || (execution.metadata?.operation ?? 'backup') !== 'backup') {
    throw new AppError('conflict', `This is not a completed backup (it is a ${String(execution.metadata?.operation ?? 'backup')} that is ${execution.status})`);
  }
  const chunks = await ctx.db.getRepository(BackupChunks).find({ where: { execution_id: executionId }, order: { chunk_number: 'ASC' } });
  if (chunks.length === 0) throw new AppError('not_found', 'This backup has no recorded files');
  const copies = await ctx.db.getRepository(BackupCopies).find({ where: { execution_id: executionId, status: 'completed' }, order: { created_at: 'ASC' } });
  const storages = await ctx.db.getRepository(StorageLocations).findBy({ id: In(copies.map((c) => c.storage_location_id)) });
  const located = copies.flatMap((copy) => {
    const storage = storages.find((s) => s.id === copy.storage_location_id);
    if (!storage || !copy.backup_path) return [];
    // The same folder name on every storage: a part's path is the copy's folder plus the part's name.
    return [{ storage, chunks: chunks.map((c) => ({ ...c, file_path: path.posix.join(copy.backup_path!, path.posix.basename(c.file_path)) })) }];
  });
  return { execution, copies: located };
}

/** A completed backup as one stream, from the first storage copy that answers. */
export async function openArtifact(ctx: Pick<ServiceContext, 'db' | 'secrets'>, executionId: string): Promise<Artifact> {
  const { execution, copies } = await locateBackup(ctx, executionId);
  const artifactName = (execution.metadata?.artifact as string | undefined) ?? path.basename(copies[0]?.chunks[0]?.file_path ?? 'backup').replace(/\.part-\d{3}$/, '');
  const failures: string[] = [];
  for (const copy of copies) {
    const storage = openSavedStorage(ctx, copy.storage);
    try {
      if (!(await storage.stat(copy.chunks[0]!.file_path))) throw new Error('the files are missing');
      const size = copy.chunks.reduce((n, c) => n + Number(c.size_bytes), 0);
      return { fileName: artifactName, size, stream: joinParts(storage, copy.chunks) };
    } catch (e) {
      failures.push(`${copy.storage.name}: ${(e as Error).message}`);
      await storage.close().catch(() => undefined);
    }
  }
  throw new AppError('not_found', `No copy of this backup could be read${failures.length ? ` (${failures.join('; ')})` : ''}`);
}

/** Desktop export: the joined artifact written to a chosen file, atomically. */
export async function exportArtifact(ctx: Pick<ServiceContext, 'db' | 'secrets'>, executionId: string, destination: string) {
  const artifact = await openArtifact(ctx, executionId);
  const target = path.resolve(destination);
  const temp = `${target}.part-${process.pid}`;
  try {
    await pipeline(artifact.stream, createWriteStream(temp, { flags: 'wx' }));
    await rename(temp, target);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
  return { path: target, size_bytes: (await stat(target)).size };
}
