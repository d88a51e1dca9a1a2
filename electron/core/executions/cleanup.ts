import { In } from 'typeorm';
import { AppError } from '../../../shared/errors.js';
import { bytes, counted, dateTime } from '../../../shared/format.js';
import type { CleanedBackup, CleanupMetadata } from '../../../shared/schemas/execution.js';
import { retentionPolicy, type RetentionDecision, type RetentionPolicy } from '../../../shared/schemas/job.js';
import { backupsInUse, isPinned, jobBackups, type JobBackup } from '../catalog/job-backups.js';
import { removeBackupFolder } from '../catalog/remove.js';
import { openSavedStorage } from '../catalog/storages.js';
import { BackupCopies, BackupExecutions, BackupJobs, StorageLocations, type ExecutionRow, type JobRow, type StorageRow } from '../db/entities.js';
import { metadataOf } from '../db/metadata.js';
import type { CoreContext } from '../kernel/context.js';
import { cleanupCompleted } from '../notify/messages.js';
import type { Say } from './report.js';
import type { Ending, Work } from './runner.js';

/** The retention planner (scheduler/retention.ts), handed in by the composition root: executions may not import the scheduler. */
export type PlanRetention = (input: {
  policy: RetentionPolicy;
  backups: readonly JobBackup[];
  timeZone: string;
  inUse: ReadonlyMap<string, 'restore' | 'verify'>;
}) => RetentionDecision[];

export const CLEANUP_LOG = '_system/cleanup.log';

/** The job's rule, or why it cannot be applied. */
export function policyOf(job: JobRow): RetentionPolicy {
  const parsed = retentionPolicy.safeParse(job.retention_policy);
  if (!parsed.success) {
    throw new AppError('validation_error', `The retention rule of job "${job.name}" is invalid (${parsed.error.issues[0]?.message}): edit the job.`);
  }
  return parsed.data;
}

/** What a rule (the job's own unless another is given) keeps and lets go among the job's backups, newest first. */
export async function retentionDecisions(
  ctx: CoreContext,
  plan: PlanRetention,
  job: JobRow,
  policy: RetentionPolicy = policyOf(job),
): Promise<RetentionDecision[]> {
  const backups = await jobBackups(ctx, job.id);
  const inUse = await backupsInUse(
    ctx,
    backups.map((b) => b.id),
  );
  return plan({ policy, backups, timeZone: job.schedule_timezone, inUse });
}

/** What the job's rule lets go, oldest first (the plan is newest first). */
export async function expiredBackups(
  ctx: CoreContext,
  plan: PlanRetention,
  job: JobRow,
): Promise<{ policy: RetentionPolicy; going: RetentionDecision[]; kept: number }> {
  const policy = policyOf(job);
  const decisions = await retentionDecisions(ctx, plan, job, policy);
  const going = decisions.filter((d) => !d.keep).reverse();
  return { policy, going, kept: decisions.length - going.length };
}

function describeRule(p: RetentionPolicy): string {
  const parts = [
    p.max_backups ? `the last ${p.max_backups}` : '',
    p.keep_daily ? `${p.keep_daily} daily` : '',
    p.keep_weekly ? `${p.keep_weekly} weekly` : '',
    p.keep_monthly ? `${p.keep_monthly} monthly` : '',
    p.keep_yearly ? `${p.keep_yearly} yearly` : '',
  ].filter(Boolean);
  return `not among ${parts.join(', ')}`;
}

/** What a cleanup removed; its files and copies go, its run stays (marked deleted by this cleanup). */
interface Removed {
  deleted: CleanedBackup[];
  failures: string[];
}

/**
 * Removes the backups named, one after another, every copy on every storage, and appends what went to
 * each storage's `_system/cleanup.log`. A backup a restore or verification was queued for since is kept.
 */
async function removeBackups(
  ctx: CoreContext,
  cleanup: ExecutionRow,
  going: { execution_id: string; started_at: string; reason: string }[],
  signal: AbortSignal,
  say: Say,
): Promise<Removed> {
  const deleted: CleanedBackup[] = [];
  const failures: string[] = [];
  const logLines = new Map<string, { storage: StorageRow; lines: string[] }>();
  for (const backup of going) {
    // Between backups only: one cut short halfway would be neither kept nor gone.
    if (signal.aborted) break;
    if ((await backupsInUse(ctx, [backup.execution_id])).size > 0) {
      say('info', `Kept ${backup.execution_id}: a restore or verification was queued for it meanwhile`);
      continue;
    }
    if (await isPinned(ctx, backup.execution_id)) {
      say('info', `Kept the backup of ${dateTime(backup.started_at)}: it is pinned`);
      continue;
    }
    const result = await deleteBackup(ctx, backup.execution_id, cleanup.id, say);
    failures.push(...result.failures);
    if (result.storages.length === 0 && result.failures.length > 0) continue;
    deleted.push({ ...backup, bytes: result.bytes, storages: result.storages.map((s) => s.name) });
    for (const { storage, folder, bytes } of result.removed) {
      const entry = logLines.get(storage.id) ?? { storage, lines: [] };
      entry.lines.push(
        `${ctx.clock.now().toISOString()} job=${cleanup.job_id ?? '-'} deleted=${folder} backup=${backup.execution_id} bytes=${bytes} reason=${JSON.stringify(backup.reason)} cleanup=${cleanup.id}\n`,
      );
      logLines.set(storage.id, entry);
    }
  }
  for (const { storage: storageRow, lines } of logLines.values()) {
    const storage = openSavedStorage(ctx, storageRow);
    try {
      await storage.append(CLEANUP_LOG, lines.join(''));
    } catch (e) {
      say('warn', `Could not append to ${CLEANUP_LOG} on ${storageRow.name}: ${(e as Error).message}`);
    } finally {
      await storage.close().catch(() => undefined);
    }
  }
  return { deleted, failures };
}

/**
 * A cleanup run. By default a retention run over one job: plan, then remove each backup the rule lets
 * go (with auto_delete off, only report what would go). With `backup_ids`, the backups a user chose to
 * delete, whatever the rule. Either way each removal takes manifest.json first, so a deletion cut short
 * never leaves what looks like a complete backup, then its parts and copies; the backup's run stays.
 */
export function cleanupWork(ctx: CoreContext, plan: PlanRetention): Work {
  return async (row, { signal, report }) => {
    const request = metadataOf(row);
    if (request.operation !== 'cleanup') throw new Error(`execution ${row.id} is not a cleanup`);
    return request.backup_ids
      ? deleteByHand(ctx, row, request, request.backup_ids, signal, report.say)
      : retention(ctx, plan, row, request, signal, report.say);
  };
}

async function retention(ctx: CoreContext, plan: PlanRetention, row: ExecutionRow, request: CleanupMetadata, signal: AbortSignal, say: Say): Promise<Ending> {
  const job = row.job_id ? await ctx.db.getRepository(BackupJobs).findOneBy({ id: row.job_id }) : null;
  if (!job) {
    say('info', 'The job was deleted since: nothing to clean up');
    return { status: 'completed', metadata: { ...request, deleted: [], kept: 0, bytes_freed: 0 } };
  }
  const { policy, going, kept } = await expiredBackups(ctx, plan, job);
  const reason = describeRule(policy);
  const base: CleanupMetadata = { ...request, job_name: job.name, kept };
  if (going.length === 0) {
    say('info', `Nothing to delete: the ${counted(kept, 'backup')} of ${job.name} ${kept === 1 ? 'is' : 'are all'} kept by its rule`);
    return { status: 'completed', metadata: { ...base, deleted: [], bytes_freed: 0 } };
  }
  if (!policy.auto_delete) {
    const would = await Promise.all(going.map(async (d) => ({ ...d, ...(await sizeOf(ctx, d.execution_id)) })));
    say('info', `Automatic deletion is off: ${counted(going.length, 'backup')} would be deleted (${reason}); nothing was deleted`);
    return {
      status: 'completed',
      metadata: {
        ...base,
        deleted: [],
        bytes_freed: 0,
        would_delete: would.map((d) => ({ execution_id: d.execution_id, started_at: d.started_at, reason, bytes: d.bytes, storages: d.storages })),
      },
    };
  }
  const { deleted, failures } = await removeBackups(
    ctx,
    row,
    going.map((d) => ({ execution_id: d.execution_id, started_at: d.started_at, reason })),
    signal,
    say,
  );
  const bytesFreed = deleted.reduce((sum, d) => sum + d.bytes, 0);
  say('info', `Deleted ${counted(deleted.length, 'backup')} of ${job.name} (${reason}), ${bytes(bytesFreed)} freed; ${kept} kept`);
  return {
    status: 'completed',
    message: failures.length ? `Some copies could not be deleted: ${failures.join('; ')}` : null,
    metadata: { ...base, deleted, bytes_freed: bytesFreed },
    notification: cleanupCompleted({
      jobId: job.id,
      jobName: job.name,
      executionId: row.id,
      deleted: deleted.map((d) => d.execution_id),
      bytesFreed,
      kept,
      failures,
    }),
  };
}

/** Backups a user chose to delete: the click is the news, so only a failure notifies. */
async function deleteByHand(ctx: CoreContext, row: ExecutionRow, request: CleanupMetadata, ids: string[], signal: AbortSignal, say: Say): Promise<Ending> {
  const backups = await ctx.db.getRepository(BackupExecutions).findBy({ id: In(ids) });
  const going = backups
    .filter((b) => !b.deleted_at)
    .map((b) => ({ execution_id: b.id, started_at: (b.started_at ?? b.created_at).toISOString(), reason: 'deleted by hand' }));
  const { deleted, failures } = await removeBackups(ctx, row, going, signal, say);
  const bytesFreed = deleted.reduce((sum, d) => sum + d.bytes, 0);
  say('info', `Deleted ${counted(deleted.length, 'backup')} by hand, ${bytes(bytesFreed)} freed`);
  const message = failures.length ? `Some copies could not be deleted: ${failures.join('; ')}` : null;
  return {
    status: deleted.length === 0 && failures.length > 0 ? 'failed' : 'completed',
    message,
    metadata: { ...request, deleted, bytes_freed: bytesFreed },
    notification: message
      ? {
          type: 'cleanup_completed',
          severity: 'warning',
          entity_type: row.job_id ? 'backup_job' : 'system',
          entity_id: row.job_id ?? row.id,
          title: 'A backup could not be deleted from every storage',
          message,
          metadata: { execution_id: row.id, deleted: deleted.map((d) => d.execution_id), bytes_freed: bytesFreed },
        }
      : null,
  };
}

/** What a backup takes, as recorded: its stored size on each storage that holds a copy. */
async function sizeOf(ctx: CoreContext, executionId: string): Promise<{ bytes: number; storages: string[] }> {
  const execution = await ctx.db.getRepository(BackupExecutions).findOneBy({ id: executionId });
  const copies = await ctx.db.getRepository(BackupCopies).findBy({ execution_id: executionId, status: 'completed' });
  const storages = copies.length ? await ctx.db.getRepository(StorageLocations).findBy({ id: In(copies.map((c) => c.storage_location_id)) }) : [];
  return { bytes: Number(execution?.compressed_size_bytes ?? 0) * copies.length, storages: storages.map((s) => s.name) };
}

interface Removal {
  bytes: number;
  storages: StorageRow[];
  removed: { storage: StorageRow; folder: string; bytes: number }[];
  failures: string[];
}

/**
 * Removes every copy of a backup. Each copy goes manifest first, then its parts; the copy's row goes
 * once its files are gone. When no copy is left the backup is marked deleted by this cleanup: its run
 * and the record of its parts stay as history. A storage that could not be reached keeps its copy
 * listed, and the next cleanup tries again.
 */
async function deleteBackup(ctx: CoreContext, executionId: string, cleanupId: string, say: Say): Promise<Removal> {
  const copiesRepo = ctx.db.getRepository(BackupCopies);
  const copies = await copiesRepo.findBy({ execution_id: executionId });
  const storageRows = copies.length ? await ctx.db.getRepository(StorageLocations).findBy({ id: In(copies.map((c) => c.storage_location_id)) }) : [];
  const result: Removal = { bytes: 0, storages: [], removed: [], failures: [] };
  for (const copy of copies) {
    const storageRow = storageRows.find((s) => s.id === copy.storage_location_id);
    if (!storageRow || !copy.backup_path) {
      await copiesRepo.delete({ execution_id: executionId, storage_location_id: copy.storage_location_id });
      continue;
    }
    const folder = copy.backup_path;
    const storage = openSavedStorage(ctx, storageRow);
    let manifestGone = false;
    try {
      const { files, bytes: size } = await removeBackupFolder(storage, folder, () => (manifestGone = true));
      await copiesRepo.delete({ execution_id: executionId, storage_location_id: storageRow.id });
      result.bytes += size;
      result.storages.push(storageRow);
      result.removed.push({ storage: storageRow, folder, bytes: size });
      say('info', `Deleted ${folder} on ${storageRow.name} (${counted(files, 'file')}, ${bytes(size)})`);
    } catch (e) {
      const message = (e as Error).message;
      result.failures.push(`${folder} on ${storageRow.name}: ${message}`);
      say('warn', `Could not delete ${folder} on ${storageRow.name}: ${message}`);
      // Without its manifest the copy is no backup any more: never offer it for a restore.
      if (manifestGone)
        await copiesRepo.update(
          { execution_id: executionId, storage_location_id: storageRow.id },
          { status: 'failed', error_message: `Partly deleted by retention: ${message}` },
        );
    } finally {
      await storage.close().catch(() => undefined);
    }
  }
  if (result.failures.length === 0) await ctx.db.getRepository(BackupExecutions).update(executionId, { deleted_at: ctx.clock.now(), deleted_by: cleanupId });
  return result;
}
