import { AppError } from '../../../shared/errors.js';
import type { RestoreInput, VerifyMethod } from '../../../shared/schemas/restore.js';
import { locateBackup } from '../backup/artifact.js';
import { Datasources, type ExecutionRow } from '../db/entities.js';
import type { ServiceContext } from '../services/context.js';
import { backupTypeOf, resolveTarget, sameFamily } from './target.js';

const invalid = (field: string, message: string) => new AppError('validation_error', message, [{ path: field, message }]);

/** Checks a restore request against the catalog and queues it; the runner does the work. */
export async function requestRestore(ctx: ServiceContext, input: RestoreInput): Promise<ExecutionRow> {
  const { execution: backup, copies } = await locateBackup(ctx, input.id);
  if (copies.length === 0) throw new AppError('not_found', 'This backup has no completed copy on any storage configured here');
  if (input.storage_location_id && !copies.some((c) => c.storage.id === input.storage_location_id)) {
    throw invalid('storage_location_id', 'This backup has no completed copy on that storage');
  }
  const targetId = input.target_datasource_id ?? backup.datasource_id;
  if (!targetId) throw invalid('target_datasource_id', 'The datasource of this backup is not configured here: choose the datasource to restore into');
  const target = await ctx.db.getRepository(Datasources).findOneBy({ id: targetId });
  if (!target) throw invalid('target_datasource_id', 'That datasource does not exist');
  const sourceType = await backupTypeOf(ctx, backup);
  if (!sameFamily(sourceType, target.type)) throw invalid('target_datasource_id', `A ${sourceType} backup cannot be restored into a ${target.type} datasource`);
  const request = { target_database: input.target_database ?? null, target_path: input.target_path ?? null };
  // Refuses impossible combinations (a path for a database…) before anything is queued.
  resolveTarget(ctx.secrets, target, request);
  return ctx.backups.enqueueTask(
    {
      job_id: backup.job_id,
      datasource_id: target.id,
      storage_location_id: input.storage_location_id ?? copies[0]!.storage.id,
      metadata: {
        operation: 'restore',
        source_execution_id: backup.id,
        storage_location_id: input.storage_location_id ?? null,
        ...request,
        safety_backup: input.safety_backup,
        overwrite: input.overwrite,
        job_name: backup.metadata?.job_name ?? null,
        datasource_name: target.name,
        datasource_type: target.type,
        execution_logs: [],
      },
    },
    (active) => active.metadata?.operation === 'restore',
    `A restore into ${target.name}`,
  );
}

/** Queues a verification of a completed backup. */
export async function requestVerify(ctx: ServiceContext, backupId: string, method: VerifyMethod): Promise<ExecutionRow> {
  const { execution: backup } = await locateBackup(ctx, backupId);
  return ctx.backups.enqueueTask(
    {
      job_id: backup.job_id,
      datasource_id: backup.datasource_id,
      storage_location_id: backup.storage_location_id,
      metadata: {
        operation: 'verify',
        source_execution_id: backup.id,
        method,
        job_name: backup.metadata?.job_name ?? null,
        datasource_name: backup.metadata?.datasource_name ?? null,
        datasource_type: backup.metadata?.datasource_type ?? null,
        execution_logs: [],
      },
    },
    (active) => active.metadata?.operation === 'verify' && active.metadata?.source_execution_id === backup.id,
    'A verification of this backup',
  );
}
