import { AppError } from '../../../shared/errors.js';
import type { BackupMetadata } from '../../../shared/schemas/execution.js';
import type { RestoreInput, VerifyMethod } from '../../../shared/schemas/restore.js';
import { givenIdentities, identitiesFor } from '../catalog/keys.js';
import { datasourceConfig } from '../catalog/datasources.js';
import { backupTypeOf, locateBackup } from '../catalog/locate.js';
import { BackupJobs, Datasources, type ExecutionRow } from '../db/entities.js';
import { metadataOf } from '../db/metadata.js';
import { backupEngineFor, sameEngine } from '../engines/index.js';
import type { CoreContext } from '../kernel/context.js';
import type { Notifier } from '../notify/notifier.js';
import { backupWork } from './backup.js';
import { cleanupWork, expiredBackups, type PlanRetention } from './cleanup.js';
import { ExecutionQueue, type QueueTiming, type RunExecution, type SlotClaim } from './queue.js';
import { restoreWork, type RunInside } from './restore.js';
import { RunKeys } from './run-keys.js';
import { createRunner, type Work } from './runner.js';
import { planServerRestore, serverRestoreWork } from './server-restore.js';
import { verifyWork } from './verify.js';
import { drillWork } from './drill.js';
import { pickDrillBackup } from './drill-pick.js';

const invalid = (field: string, message: string) => new AppError('validation_error', message, [{ path: field, message }]);

/** What the composition root hands in: the retention planner (it lives in the scheduler, above this layer), the run lease and the queue's poll. */
export interface ExecutionsOptions {
  planRetention: PlanRetention;
  lease?: Partial<QueueTiming>;
}

/**
 * Backups, restores, verifications and cleanups: each request is checked against the catalog, then
 * queued; the queue hands every one to one runner, which ends them all the same way.
 */
export class Executions {
  private readonly queue: ExecutionQueue;
  private readonly run: RunExecution;
  /** Keys pasted for a restore or restore test, in memory until that run ends. */
  private readonly runKeys: RunKeys;

  private readonly planRetention: PlanRetention;

  constructor(
    private readonly ctx: CoreContext,
    notifier: Notifier,
    options: ExecutionsOptions,
  ) {
    this.planRetention = options.planRetention;
    this.queue = new ExecutionQueue(ctx, options.lease);
    this.runKeys = new RunKeys(ctx.events);
    this.run = createRunner(ctx, notifier, {
      backup: backupWork(ctx, {
        verify: (backupId, method) => this.verify(backupId, method, { trigger: 'after_backup' }),
        cleanup: (jobId) => this.cleanup(jobId, 'after_backup'),
      }),
      restore: this.restoreKinds(ctx),
      verify: verifyWork(ctx),
      cleanup: cleanupWork(ctx, this.planRetention),
      drill: drillWork(ctx, this.runKeys),
    });
  }

  /** A restore of one artifact, or of databases from a whole server's backup (executions/server-restore.ts). */
  private restoreKinds(ctx: CoreContext): Work {
    const runInside: RunInside = (signal, values) => this.queue.runInside(signal, values);
    const one = restoreWork(ctx, runInside, this.runKeys);
    const server = serverRestoreWork(ctx, runInside, this.runKeys);
    return (row, io) => {
      const request = metadataOf(row);
      return request.operation === 'restore' && request.databases ? server(row, io) : one(row, io);
    };
  }

  start(): Promise<void> {
    return this.queue.start(this.run);
  }

  stop(): Promise<void> {
    return this.queue.stop();
  }

  cancel(executionId: string): Promise<boolean> {
    return this.queue.cancel(executionId);
  }

  /** Run now: a backup of the job, unless one is already queued or running. */
  backup(jobId: string): Promise<ExecutionRow> {
    return this.queue.enqueueBackup(jobId, { operation: 'backup', execution_logs: [] });
  }

  /** A schedule slot: claimed at most once across instances and restarts, run or recorded as skipped. */
  claimSlot(claim: SlotClaim): Promise<ExecutionRow | null> {
    return this.queue.claimSlot(claim);
  }

  /** A drill slot of a job: claimed at most once across instances and restarts, then its drill queued. */
  async claimDrillSlot(claim: Omit<SlotClaim, 'jobId'> & { jobId: string }): Promise<ExecutionRow | null> {
    if (!(await this.queue.claimDrillSlot(claim)) || !claim.run) return null;
    return this.drill({ jobId: claim.jobId, trigger: claim.run.trigger, scheduledFor: claim.run.slot });
  }

  /** The next attempt of a failed scheduled run (trigger `retry`). */
  retry(failed: ExecutionRow): Promise<ExecutionRow | null> {
    return this.queue.enqueueRetry(failed);
  }

  /**
   * Queues a retention run of the job when its rule lets a backup go (or, with auto_delete off, would):
   * a job whose backups are all kept gets no cleanup row in Activity. One at a time per job; it runs
   * after the job's backup, never beside it. Answers null when there is nothing to do.
   */
  async cleanup(jobId: string, trigger: 'after_backup' | 'schedule'): Promise<ExecutionRow | null> {
    const job = await this.ctx.db.getRepository(BackupJobs).findOneBy({ id: jobId });
    if (!job) return null;
    const { going } = await expiredBackups(this.ctx, this.planRetention, job);
    if (going.length === 0) return null;
    const pending = (active: ExecutionRow) => active.operation === 'cleanup' && active.job_id === jobId && active.status === 'queued';
    try {
      return await this.queue.enqueue(
        {
          job_id: job.id,
          datasource_id: job.datasource_id,
          storage_location_id: job.storage_location_id,
          trigger,
          metadata: { operation: 'cleanup', job_name: job.name, execution_logs: [] },
        },
        pending,
        'A cleanup of this job',
      );
    } catch (e) {
      // One already waiting will see these backups too.
      if (e instanceof AppError && e.code === 'busy') return null;
      throw e;
    }
  }

  async restore(input: RestoreInput): Promise<ExecutionRow> {
    const backup = await locateBackup(this.ctx, input.id);
    const { execution, metadata, copies } = backup;
    if (copies.length === 0) throw new AppError('not_found', 'This backup has no completed copy on any storage configured here');
    if (input.storage_location_id && !copies.some((c) => c.storage.id === input.storage_location_id)) {
      throw invalid('storage_location_id', 'This backup has no completed copy on that storage');
    }
    const targetId = input.target_datasource_id ?? execution.datasource_id;
    if (!targetId) throw invalid('target_datasource_id', 'The datasource of this backup is not configured here: choose the datasource to restore into');
    const target = await this.ctx.db.getRepository(Datasources).findOneBy({ id: targetId });
    if (!target) throw invalid('target_datasource_id', 'That datasource does not exist');
    const sourceType = await backupTypeOf(this.ctx, backup);
    if (!sameEngine(sourceType, target.type))
      throw invalid('target_datasource_id', `A ${sourceType} backup cannot be restored into a ${target.type} datasource`);
    if (input.paths && sourceType !== 'files') throw invalid('paths', 'Only a folder backup restores chosen files and folders');
    if (input.tables && !backupEngineFor(target.type).restoreTables) throw invalid('tables', 'Only a database backup restores chosen tables');
    const targetConfig = datasourceConfig(this.ctx, target);
    const server = planServerRestore(metadata, target, targetConfig, input);
    const request = { target_database: server ? null : (input.target_database ?? null), target_path: input.target_path ?? null };
    // Refuses impossible combinations (a path for a database…) before anything is queued.
    if (!server) backupEngineFor(target.type).target(targetConfig, target.name, request);
    const keys = await this.keysFor(metadata.encryption, input.identity);
    const row = await this.queue.enqueue(
      {
        job_id: execution.job_id,
        datasource_id: target.id,
        storage_location_id: input.storage_location_id ?? copies[0]!.storage.id,
        metadata: {
          operation: 'restore',
          source_execution_id: execution.id,
          storage_location_id: input.storage_location_id ?? null,
          ...request,
          safety_backup: input.safety_backup,
          overwrite: input.overwrite,
          ...(input.paths ? { paths: input.paths } : {}),
          ...(input.tables ? { tables: input.tables } : {}),
          job_name: metadata.job_name ?? null,
          datasource_name: target.name,
          datasource_type: target.type,
          execution_logs: [],
          ...(server ?? {}),
        },
      },
      (active) => active.operation === 'restore',
      `A restore into ${target.name}`,
    );
    // Before the queue's next turn (a timer) can claim the row: the run finds its key.
    this.runKeys.hold(row.id, keys);
    return row;
  }

  /**
   * The keys pasted for one run, checked now: an encrypted backup that neither they nor the app's key opens
   * is refused before anything is queued. An unencrypted backup needs none, and ignores any.
   */
  private async keysFor(encryption: BackupMetadata['encryption'], identity: string | null | undefined) {
    if (!encryption) return [];
    const given = await givenIdentities(identity);
    await identitiesFor(this.ctx, encryption, given);
    return given;
  }

  /**
   * Deletes a backup by hand: a cleanup run removes its files and copies on every storage, and its run
   * stays as history (deleted by the user). Refused while a restore or verification reads it.
   */
  async deleteBackup(backupId: string): Promise<ExecutionRow> {
    const { execution, metadata } = await locateBackup(this.ctx, backupId);
    if (execution.pinned_at) {
      const why = execution.pin_reason ? ` (${execution.pin_reason})` : '';
      throw new AppError('conflict', `This backup is pinned${why}: unpin it first to delete it`);
    }
    const reads = (active: ExecutionRow) => {
      const m = metadataOf(active);
      return (m.operation === 'restore' || m.operation === 'verify' || m.operation === 'drill') && m.source_execution_id === execution.id;
    };
    const deletes = (active: ExecutionRow) => {
      const m = metadataOf(active);
      return m.operation === 'cleanup' && Boolean(m.backup_ids?.includes(execution.id));
    };
    return this.queue.enqueue(
      {
        job_id: execution.job_id,
        datasource_id: execution.datasource_id,
        storage_location_id: execution.storage_location_id,
        metadata: {
          operation: 'cleanup',
          backup_ids: [execution.id],
          job_name: metadata.job_name ?? null,
          datasource_name: metadata.datasource_name ?? null,
          datasource_type: metadata.datasource_type ?? null,
          execution_logs: [],
        },
      },
      (active) => reads(active) || deletes(active),
      'Work on this backup',
    );
  }

  async verify(backupId: string, method: VerifyMethod, options: { trigger?: 'manual' | 'after_backup'; identity?: string | null } = {}): Promise<ExecutionRow> {
    // A test restore is a drill of that backup: one code path restores into a scratch target and checks it.
    if (method === 'restore-test') return this.drill({ backupId, trigger: options.trigger ?? 'manual', identity: options.identity, keyRequired: true });
    const trigger = options.trigger ?? 'manual';
    const { execution, metadata } = await locateBackup(this.ctx, backupId);
    const sameCheck = (active: ExecutionRow) => {
      const m = metadataOf(active);
      return m.operation === 'verify' && m.source_execution_id === execution.id;
    };
    const row = await this.queue.enqueue(
      {
        job_id: execution.job_id,
        datasource_id: execution.datasource_id,
        storage_location_id: execution.storage_location_id,
        trigger,
        metadata: {
          operation: 'verify',
          source_execution_id: execution.id,
          method,
          job_name: metadata.job_name ?? null,
          datasource_name: metadata.datasource_name ?? null,
          datasource_type: metadata.datasource_type ?? null,
          execution_logs: [],
        },
      },
      sameCheck,
      'A verification of this backup',
    );
    return row;
  }

  /**
   * A drill: of the backup given (a test restore), or of the job's backup its drill_pick chooses (Drill now, a
   * drill slot). One at a time per job; the queue runs one drill at a time on this machine, never beside its job's backup.
   */
  async drill(o: {
    jobId?: string;
    backupId?: string;
    trigger?: 'manual' | 'after_backup' | 'schedule' | 'catch_up';
    identity?: string | null;
    scheduledFor?: Date;
    /** A test restore asked for by hand is refused when no key opens the backup; a job's drill checks its checksums and says so. */
    keyRequired?: boolean;
  }): Promise<ExecutionRow> {
    const job = o.jobId ? await this.ctx.db.getRepository(BackupJobs).findOneBy({ id: o.jobId }) : null;
    if (o.jobId && !job) throw new AppError('not_found', `Backup job ${o.jobId} does not exist`);
    const backupId = o.backupId ?? (await pickDrillBackup(this.ctx, job!));
    const { execution, metadata } = await locateBackup(this.ctx, backupId);
    const keys = o.keyRequired ? await this.keysFor(metadata.encryption, o.identity) : await this.keysForDrill(metadata.encryption, o.identity);
    const jobId = execution.job_id ?? job?.id ?? null;
    const row = await this.queue.enqueue(
      {
        job_id: jobId,
        datasource_id: execution.datasource_id,
        storage_location_id: execution.storage_location_id,
        trigger: o.trigger ?? 'manual',
        scheduled_for: o.scheduledFor ?? null,
        metadata: {
          operation: 'drill',
          source_execution_id: execution.id,
          pick: o.backupId ? 'backup' : job!.drill_pick,
          job_name: metadata.job_name ?? job?.name ?? null,
          datasource_name: metadata.datasource_name ?? null,
          datasource_type: metadata.datasource_type ?? null,
          execution_logs: [],
        },
      },
      (active) => active.operation === 'drill' && active.job_id === jobId,
      'A drill of this job',
    );
    this.runKeys.hold(row.id, keys);
    return row;
  }

  /** A drill of a backup no key here opens (write-only mode) is not refused: it checks the checksums and says so. A pasted key is checked. */
  private async keysForDrill(encryption: BackupMetadata['encryption'], identity: string | null | undefined) {
    if (!encryption || !identity?.trim()) return [];
    return this.keysFor(encryption, identity);
  }
}
