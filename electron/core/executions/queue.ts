import type { EntityManager, Repository } from 'typeorm';
import { AppError } from '../../../shared/errors.js';
import type { ExecutionTrigger } from '../../../shared/schemas/enums.js';
import type { ExecutionMetadata } from '../../../shared/schemas/execution.js';
import { BackupExecutions, BackupJobs, type ExecutionRow } from '../db/entities.js';
import { storedMetadata } from '../db/metadata.js';
import type { CoreContext } from '../kernel/context.js';
import { thisInstance } from '../kernel/instance.js';
import { scoped } from '../kernel/log.js';
import { readSettings } from '../kernel/settings.js';
import { DEFAULT_LEASE, takeOverStaleRuns, type Lease } from './recovery.js';

const log = scoped('queue');

/**
 * The lease, and how often the queue looks for rows queued by another process sharing the metadata
 * database. Work queued in this process wakes the queue at once; the poll is only that safety net.
 */
export interface QueueTiming extends Lease {
  pollMs: number;
}

export type RunExecution = (row: ExecutionRow, signal: AbortSignal) => Promise<void>;

/** A new execution: what it is, on what, why (a click unless said), and its request (its metadata). */
export interface NewExecution {
  job_id: string | null;
  datasource_id: string | null;
  storage_location_id: string;
  trigger?: ExecutionTrigger;
  /** The schedule slot a scheduled drill is for. */
  scheduled_for?: Date | null;
  metadata: ExecutionMetadata;
}

/** One schedule slot of a job, as the scheduler read it, and what to do with it. */
export interface SlotClaim {
  jobId: string;
  /** `next_execution_at` as read: the claim holds only if no one moved it since. */
  due: Date;
  /** What `next_execution_at` becomes. */
  next: Date | null;
  /** The run this claim makes, or null when the missed slots are dropped (catch-up `skip`). */
  run: { slot: Date; trigger: Extract<ExecutionTrigger, 'schedule' | 'catch_up'> } | null;
}

const busy = (what: string, active: ExecutionRow) =>
  new AppError('busy', `${what} is already ${active.status} (execution ${active.id}); wait for it or cancel it.`, undefined, {
    execution_id: active.id,
    status: active.status,
  });

/**
 * The queue is the `backup_executions` table itself: Run now, the scheduler, Restore, Verify and
 * retention insert a `queued` row; this runner claims rows with FOR UPDATE SKIP LOCKED, at most
 * `system.max_concurrent_backups` at once, never two of the same job or datasource.
 */
export class ExecutionQueue {
  private readonly running = new Map<string, AbortController>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private pumping = false;
  /** Work was queued while a pump was claiming: look again as soon as it ends, not at the next poll. */
  private wake = false;
  private readonly finished = new Set<Promise<void>>();
  private runExecution: RunExecution = async () => undefined;
  private staleCheck: NodeJS.Timeout | undefined;
  private readonly lease: QueueTiming;

  constructor(
    private readonly ctx: CoreContext,
    lease: Partial<QueueTiming> = {},
  ) {
    this.lease = { ...DEFAULT_LEASE, pollMs: 1000, ...lease };
  }

  /**
   * Starts claiming work. Runs left `running` by a process that died are failed and their partial
   * files removed, now and on every check after: a run is only taken once its lease is stale, so two
   * instances on one metadata database never fail each other's live runs.
   */
  async start(run: RunExecution): Promise<void> {
    this.runExecution = run;
    this.stopped = false;
    await this.checkLeases();
    // Real time, not the injectable clock: a lease measures how long a process has been silent.
    this.staleCheck = setInterval(() => void this.checkLeases(), this.lease.checkMs);
    this.staleCheck.unref?.();
    this.schedule(0);
  }

  private async checkLeases(): Promise<void> {
    try {
      await takeOverStaleRuns(this.ctx, this.lease, [...this.running.keys()]);
    } catch (e) {
      log.error('could not look for interrupted executions', e);
    }
  }

  /** Queues a backup of a job, unless the job already has one queued or running. */
  async enqueueBackup(jobId: string, metadata: ExecutionMetadata & { operation: 'backup' }): Promise<ExecutionRow> {
    const row = await this.ctx.db.transaction(async (m) => {
      // Lock the job row so two Run now clicks cannot both pass the check below.
      const job = await m.getRepository(BackupJobs).createQueryBuilder('j').setLock('pessimistic_write').where('j.id = :jobId', { jobId }).getOne();
      if (!job) throw new AppError('not_found', `Backup job ${jobId} does not exist`);
      const active = await m.getRepository(BackupExecutions).findOne({
        where: [
          { job_id: jobId, status: 'queued' },
          { job_id: jobId, status: 'running' },
        ],
      });
      if (active) throw busy('This job', active);
      return this.insert(
        m.getRepository(BackupExecutions),
        { job_id: jobId, datasource_id: job.datasource_id, storage_location_id: job.storage_location_id, metadata },
        'queued',
      );
    });
    this.queued(row);
    return row;
  }

  /**
   * Claims a schedule slot: moves the job's `next_execution_at` on from the value the scheduler read,
   * and records its run, in one transaction. Another instance, a restart or a clock jump that tries the
   * same slot finds `next_execution_at` moved (and the unique (job, slot, attempt) index): a slot runs
   * at most once. A job still queued or running gets a `skipped` execution saying why, never a second run.
   * Answers the execution recorded, or null when the claim was lost or made no run.
   */
  async claimSlot(claim: SlotClaim): Promise<ExecutionRow | null> {
    const row = await this.ctx.db.transaction(async (m) => {
      const [moved] = (await m.query(`UPDATE backup_jobs SET next_execution_at = $1 WHERE id = $2 AND enabled AND next_execution_at = $3 RETURNING id`, [
        claim.next,
        claim.jobId,
        claim.due,
      ])) as [{ id: string }[], number];
      if (!moved?.length || !claim.run) return null;
      const job = await m.getRepository(BackupJobs).findOneByOrFail({ id: claim.jobId });
      const active = await this.activeOf(m, job.id);
      const when = claim.run.slot.toISOString();
      return this.insertOnce(m, {
        job_id: job.id,
        datasource_id: job.datasource_id,
        storage_location_id: job.storage_location_id,
        trigger: claim.run.trigger,
        scheduled_for: claim.run.slot,
        attempt: 1,
        retry_of: null,
        metadata: { operation: 'backup', job_name: job.name, execution_logs: [] },
        skipped: active
          ? `Skipped the run of ${when}: the previous run of this job (execution ${active.id}) was still ${active.status}. A job never runs twice at once.`
          : null,
      });
    });
    if (row) this.announce(row);
    return row;
  }

  /**
   * Claims a drill slot of a job: moves `next_drill_at` on from the value the scheduler read. Another instance, a
   * restart or a clock jump that tries the same slot finds it moved: a drill slot is claimed at most once.
   */
  async claimDrillSlot(claim: Pick<SlotClaim, 'jobId' | 'due' | 'next'>): Promise<boolean> {
    const [moved] = (await this.ctx.db.query(`UPDATE backup_jobs SET next_drill_at = $1 WHERE id = $2 AND enabled AND next_drill_at = $3 RETURNING id`, [
      claim.next,
      claim.jobId,
      claim.due,
    ])) as [{ id: string }[], number];
    return Boolean(moved?.length);
  }

  /**
   * Queues the retry of a failed scheduled run: attempt n+1 of the same slot, linked to the slot's first
   * run. Null when it already exists (another instance made it), or while the job is busy (the next look
   * tries again).
   */
  async enqueueRetry(failed: ExecutionRow): Promise<ExecutionRow | null> {
    if (!failed.job_id || !failed.scheduled_for) return null;
    const jobId = failed.job_id;
    const scheduledFor = failed.scheduled_for;
    const row = await this.ctx.db.transaction(async (m) => {
      const job = await m.getRepository(BackupJobs).createQueryBuilder('j').setLock('pessimistic_write').where('j.id = :jobId', { jobId }).getOne();
      if (!job?.enabled || (await this.activeOf(m, job.id))) return null;
      return this.insertOnce(m, {
        job_id: job.id,
        datasource_id: job.datasource_id,
        storage_location_id: job.storage_location_id,
        trigger: 'retry',
        scheduled_for: scheduledFor,
        attempt: failed.attempt + 1,
        retry_of: failed.retry_of ?? failed.id,
        metadata: { operation: 'backup', job_name: job.name, execution_logs: [] },
        skipped: null,
      });
    });
    if (row) this.announce(row);
    return row;
  }

  private async activeOf(m: EntityManager, jobId: string): Promise<ExecutionRow | null> {
    return m.getRepository(BackupExecutions).findOne({
      where: [
        { job_id: jobId, status: 'queued' },
        { job_id: jobId, status: 'running' },
      ],
    });
  }

  /** Inserts a scheduled execution unless its (job, slot, attempt) exists already. */
  private async insertOnce(
    m: EntityManager,
    v: NewExecution & Pick<ExecutionRow, 'trigger' | 'scheduled_for' | 'attempt' | 'retry_of'> & { skipped: string | null },
  ): Promise<ExecutionRow | null> {
    const now = this.ctx.clock.now();
    const result = await m
      .createQueryBuilder()
      .insert()
      .into(BackupExecutions)
      .values({
        job_id: v.job_id,
        datasource_id: v.datasource_id,
        storage_location_id: v.storage_location_id,
        operation: 'backup',
        metadata: storedMetadata(v.metadata),
        status: v.skipped ? 'skipped' : 'queued',
        finished_at: v.skipped ? now : null,
        error_message: v.skipped,
        trigger: v.trigger,
        scheduled_for: v.scheduled_for,
        attempt: v.attempt,
        retry_of: v.retry_of,
        backup_type: 'full',
      })
      .orIgnore()
      .returning(['id'])
      .execute();
    const id = (result.raw as { id: string }[])[0]?.id;
    return id ? m.getRepository(BackupExecutions).findOneByOrFail({ id }) : null;
  }

  private announce(row: ExecutionRow) {
    if (row.status === 'queued') return this.queued(row);
    this.ctx.events.emit('execution.status', { execution_id: row.id, job_id: row.job_id, status: row.status, error_message: row.error_message });
  }

  /**
   * Queues a restore or verify. `clashes` picks, among the executions queued or running on the same
   * datasource, one that makes this one unsafe or pointless; then it is refused and named.
   */
  async enqueue(values: NewExecution, clashes: (active: ExecutionRow) => boolean, what: string): Promise<ExecutionRow> {
    const repo = this.ctx.db.getRepository(BackupExecutions);
    const active = values.datasource_id
      ? await repo.find({
          where: [
            { datasource_id: values.datasource_id, status: 'queued' },
            { datasource_id: values.datasource_id, status: 'running' },
          ],
        })
      : [];
    const clash = active.find(clashes);
    if (clash) throw busy(what, clash);
    const row = await this.insert(repo, values, 'queued');
    this.queued(row);
    return row;
  }

  /**
   * Runs an execution inside one that is running (a restore's safety backup): its own row, shown in
   * Activity and cancellable, but it takes no queue slot, since its parent already holds the datasource.
   * Cancelling the parent cancels it. Answers the row as it ended.
   */
  async runInside(parent: AbortSignal, values: NewExecution): Promise<ExecutionRow> {
    const repo = this.ctx.db.getRepository(BackupExecutions);
    const row = await this.insert(repo, values, 'running');
    const controller = new AbortController();
    const follow = () => controller.abort(parent.reason);
    parent.addEventListener('abort', follow, { once: true });
    try {
      await this.run(row, controller);
    } finally {
      parent.removeEventListener('abort', follow);
    }
    return repo.findOneByOrFail({ id: row.id });
  }

  /** A queued execution is cancelled at once; a running one is stopped and its partial files removed. */
  async cancel(executionId: string): Promise<boolean> {
    const controller = this.running.get(executionId);
    if (controller) {
      controller.abort(new AppError('cancelled', 'Cancelled by the user'));
      return true;
    }
    const result = await this.ctx.db
      .createQueryBuilder()
      .update(BackupExecutions)
      .set({ status: 'cancelled', finished_at: this.ctx.clock.now(), error_message: 'Cancelled by the user before it started' })
      .where('id = :id AND status = :status', { id: executionId, status: 'queued' })
      .returning(['id', 'job_id'])
      .execute();
    const row = (result.raw as { id: string; job_id: string | null }[])[0];
    if (row) this.ctx.events.emit('execution.status', { execution_id: row.id, job_id: row.job_id, status: 'cancelled', error_message: null });
    return Boolean(row);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.staleCheck);
    for (const c of this.running.values()) c.abort(new AppError('cancelled', 'DataGuardian is stopping'));
    await Promise.allSettled([...this.finished]);
  }

  private async insert(repo: Repository<ExecutionRow>, values: NewExecution, status: 'queued' | 'running'): Promise<ExecutionRow> {
    return repo.save(
      repo.create({
        job_id: values.job_id,
        datasource_id: values.datasource_id,
        storage_location_id: values.storage_location_id,
        operation: values.metadata.operation,
        metadata: storedMetadata(values.metadata),
        status,
        trigger: values.trigger ?? 'manual',
        scheduled_for: values.scheduled_for ?? null,
        instance: status === 'running' ? thisInstance() : null,
        started_at: status === 'running' ? this.ctx.clock.now() : null,
        // Renewed at once by the database's clock (see run); this only covers the moment between.
        heartbeat_at: status === 'running' ? new Date() : null,
        backup_type: 'full',
      }),
    );
  }

  private queued(row: ExecutionRow) {
    this.ctx.events.emit('execution.status', { execution_id: row.id, job_id: row.job_id, status: 'queued', error_message: null });
    this.schedule(0);
  }

  private schedule(delay: number) {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pump(), delay);
    this.timer.unref?.();
  }

  private async pump(): Promise<void> {
    if (this.stopped) return;
    if (this.pumping) {
      // This pump may have looked before the new row was committed.
      this.wake = true;
      return;
    }
    this.pumping = true;
    this.wake = false;
    try {
      const { 'system.max_concurrent_backups': max } = await readSettings(this.ctx.db);
      while (!this.stopped && this.running.size < max) {
        const row = await this.claim();
        if (!row) break;
        const done = this.run(row, new AbortController()).finally(() => {
          this.finished.delete(done);
          this.schedule(0);
        });
        this.finished.add(done);
      }
    } catch (e) {
      log.error('the execution queue could not claim work', e);
    } finally {
      this.pumping = false;
      this.schedule(this.wake ? 0 : this.lease.pollMs);
    }
  }

  private async claim(): Promise<ExecutionRow | undefined> {
    const [rows] = (await this.ctx.db.query(
      `UPDATE backup_executions SET status = 'running', started_at = $1, heartbeat_at = now(), instance = $2
       WHERE id = (
         SELECT e.id FROM backup_executions e
         WHERE e.status = 'queued'
           -- One execution at a time per job and per datasource: a restore never overlaps a backup of its target.
           AND NOT EXISTS (SELECT 1 FROM backup_executions r WHERE r.status = 'running' AND (r.job_id = e.job_id OR r.datasource_id = e.datasource_id))
           -- One drill at a time on this machine: a drill measures how long a restore takes, alone.
           AND NOT (e.operation = 'drill' AND EXISTS (SELECT 1 FROM backup_executions d WHERE d.status = 'running' AND d.operation = 'drill'))
         ORDER BY e.created_at
         FOR UPDATE SKIP LOCKED
         LIMIT 1)
       RETURNING id`,
      [this.ctx.clock.now(), JSON.stringify(thisInstance())],
    )) as [{ id: string }[], number];
    const id = rows?.[0]?.id;
    return id ? ((await this.ctx.db.getRepository(BackupExecutions).findOneBy({ id })) ?? undefined) : undefined;
  }

  private async run(row: ExecutionRow, controller: AbortController): Promise<void> {
    this.running.set(row.id, controller);
    this.ctx.events.emit('execution.status', { execution_id: row.id, job_id: row.job_id, status: 'running', error_message: null });
    const heartbeat = setInterval(() => void this.beat(row.id, controller), this.lease.heartbeatMs);
    heartbeat.unref?.();
    try {
      await this.beat(row.id, controller);
      await this.runExecution(row, controller.signal);
    } catch (e) {
      log.error(`execution ${row.id} ended with an unexpected error`, e);
    } finally {
      clearInterval(heartbeat);
      this.running.delete(row.id);
    }
  }

  /**
   * Renews the run's lease. A run whose row is no longer `running` was taken over by another instance
   * while this one could not renew (a frozen process, a lost connection): it stops rather than write
   * where the other instance is cleaning up.
   */
  private async beat(id: string, controller: AbortController): Promise<void> {
    try {
      const [, renewed] = (await this.ctx.db.query(`UPDATE backup_executions SET heartbeat_at = now() WHERE id = $1 AND status = 'running'`, [id])) as [
        unknown,
        number,
      ];
      if (renewed === 0 && !controller.signal.aborted) {
        controller.abort(new AppError('cancelled', 'Taken over as interrupted by another DataGuardian instance, after this one stopped renewing its lease'));
      }
    } catch (e) {
      log.warn(`could not renew the lease of execution ${id}: ${(e as Error).message}`);
    }
  }
}
