import path from 'node:path';
import { In } from 'typeorm';
import { AppError } from '../../../shared/errors.js';
import type { BackupMetadata } from '../../../shared/schemas/execution.js';
import type { DatasourceType } from '../../../shared/schemas/enums.js';
import {
  BackupChunks,
  BackupCopies,
  BackupExecutions,
  Datasources,
  StorageLocations,
  type ChunkRow,
  type ExecutionRow,
  type StorageRow,
} from '../db/entities.js';
import { metadataOf } from '../db/metadata.js';
import type { CoreContext } from '../kernel/context.js';

/** One storage's copy of a backup, with its parts' paths on that storage, in order. */
export interface LocatedCopy {
  storage: StorageRow;
  chunks: ChunkRow[];
}

export interface LocatedBackup {
  execution: ExecutionRow;
  metadata: BackupMetadata;
  copies: LocatedCopy[];
}

/** A completed backup and where its copies are, in the order they were written. */
export async function locateBackup(ctx: Pick<CoreContext, 'db'>, executionId: string): Promise<LocatedBackup> {
  const execution = await ctx.db.getRepository(BackupExecutions).findOneBy({ id: executionId });
  if (!execution) throw new AppError('not_found', `Backup ${executionId} does not exist`);
  const metadata = metadataOf(execution);
  // A partial backup (a whole server where some databases failed) holds complete backups of the others.
  if (!['completed', 'partial'].includes(execution.status) || metadata.operation !== 'backup') {
    throw new AppError('validation_error', `This is not a completed backup (it is a ${execution.operation} that is ${execution.status})`);
  }
  if (execution.deleted_at) {
    throw new AppError('not_found', `This backup was deleted on ${execution.deleted_at.toISOString().slice(0, 10)}: its files are gone, only its record stays`);
  }
  const located = (await locateCopies(ctx, [executionId])).get(executionId);
  if (!located) throw new AppError('not_found', 'This backup has no recorded files');
  return { execution, metadata, copies: located };
}

/**
 * Where the copies of completed backups are, for many backups in three queries (a page of the Backups
 * tab). A backup without recorded parts has no entry.
 */
export async function locateCopies(ctx: Pick<CoreContext, 'db'>, executionIds: string[]): Promise<Map<string, LocatedCopy[]>> {
  const out = new Map<string, LocatedCopy[]>();
  if (executionIds.length === 0) return out;
  const [chunks, copies] = await Promise.all([
    ctx.db.getRepository(BackupChunks).find({ where: { execution_id: In(executionIds) }, order: { chunk_number: 'ASC' } }),
    ctx.db.getRepository(BackupCopies).find({ where: { execution_id: In(executionIds), status: 'completed' }, order: { created_at: 'ASC' } }),
  ]);
  const storages = await ctx.db.getRepository(StorageLocations).findBy({ id: In([...new Set(copies.map((c) => c.storage_location_id))]) });
  const partsOf = new Map<string, ChunkRow[]>();
  for (const c of chunks) partsOf.set(c.execution_id, [...(partsOf.get(c.execution_id) ?? []), c]);
  for (const id of executionIds) if (partsOf.has(id)) out.set(id, []);
  for (const copy of copies) {
    const parts = partsOf.get(copy.execution_id);
    const storage = storages.find((s) => s.id === copy.storage_location_id);
    if (!parts || !storage || !copy.backup_path) continue;
    // The same folder name on every storage: a part's path is the copy's folder plus the part's name.
    out.get(copy.execution_id)!.push({
      storage,
      chunks: parts.map((c) => ({ ...c, file_path: path.posix.join(copy.backup_path!, path.posix.basename(c.file_path)) })),
    });
  }
  return out;
}

/** What kind of datasource a backup came from: recorded with it, else (an older backup) its datasource's type. */
export async function backupTypeOf(ctx: Pick<CoreContext, 'db'>, backup: LocatedBackup): Promise<DatasourceType> {
  const recorded = backup.metadata.datasource_type;
  if (recorded) return recorded as DatasourceType;
  const ds = backup.execution.datasource_id ? await ctx.db.getRepository(Datasources).findOneBy({ id: backup.execution.datasource_id }) : null;
  if (!ds) throw new AppError('not_found', 'The type of this backup is unknown (its datasource was deleted)');
  return ds.type;
}
