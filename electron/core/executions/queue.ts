import { AppError } from '../../../shared/errors.js';
import { BackupExecutions, BackupJobs, type ExecutionRow } from '../db/entities.js';
import { scoped } from '../log.js';
import type { ServiceContext } from '../services/context.js';
import { readSettings } from '../services/settings.js';

const log = scoped('queue');
const POLL_MS = 1000;

export type RunExecution = (row: ExecutionRow, signal: AbortSignal) => Promise<void>;

/**
 * The queue is the `backup_executions` table itself: Run now (and later the scheduler), Restore and
 * Verify insert a `queued` row; this runner claims rows with FOR UPDATE SKIP LOCKED, at most
 * `system.max_concurrent_backups` at once, never two of the same job or datasource.
 */
export class BackupQueue {
  private readonly running = new Map<string, AbortController>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private pumping = false;
  private readonly finished = new Set<Promise<void>>();

  constructor(
    private readonly ctx: Pick<ServiceContext, 'db' | 'events'>,
    private readonly runExecution: RunExecution,
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    // A row left `running` belongs to a process that died mid-backup: it can never finish.
    const interrupted: ExecutionRow[] = await this.ctx.db.query(
      `UPDATE backup_executions SET status = 'failed', finished_at = NOW(),
         error_message = 'Interrupted: DataGuardian stopped while this was running. Start it again.'
       WHERE status = 'running' RETURNING id, job_id`,
    ).then((r: [ExecutionRow[], number] | ExecutionRow[]) => (Array.isArray(r[0]) ? (r[0] as ExecutionRow[]) : (r as ExecutionRow[])));
    for (const row of interrupted) log.warn(`execution ${row.id} was interrupted by a stop`);
    this.schedule(0);
  }

  /** Inserts a queued execution, unless the job already has one queued or running. */
  async enqueue(jobId: string): Promise<ExecutionRow> {
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
      if (active) {
        throw new AppError('conflict', `This job is already ${active.status} (execution ${active.id}); wait for it or cancel it.`, undefined, {
          execution_id: active.id,
          status: active.status,
        });
      }
      const repo = m.getRepository(BackupExecutions);
      return repo.save(
        repo.create({
          job_id: jobId,
          datasource_id: job.datasource_id,
          storage_location_id: job.storage_location_id,
          status: 'queued',
          backup_type: 'full',
          metadata: { operation: 'backup', execution_logs: [] },
        }),
      );
    });
    this.ctx.events.emit('execution.status', { execution_id: row.id, job_id: jobId, status: 'queued', error_message: null });
    this.schedule(0);
    return row;
  }

  /**
   * Inserts a queued restore or verify. `clashes` picks, among the executions queued or running on
   * the same datasource, one that makes this one unsafe or pointless; then it is refused and named.
   */
  async enqueueTask(
    values: Pick<ExecutionRow, 'job_id' | 'datasource_id' | 'storage_location_id' | 'metadata'>,
    clashes: (active: ExecutionRow) => boolean,
    what: string,
  ): Promise<ExecutionRow> {
    const repo = this.ctx.db.getRepository(BackupExecutions);
    const active = values.datasource_id
      ? await repo.find({ where: [{ datasource_id: values.datasource_id, status: 'queued' }, { datasource_id: values.datasource_id, status: 'running' }] })
      : [];
    const clash = active.find(clashes);
    if (clash) {
      throw new AppError('conflict', `${what} is already ${clash.status} (execution ${clash.id}); wait for it or cancel it.`, undefined, { execution_id: clash.id, status: clash.status });
    }
    const row = await repo.save(repo.create({ ...values, status: 'queued', backup_type: 'full' }));
    this.ctx.events.emit('execution.status', { execution_id: row.id, job_id: row.job_id, status: 'queued', error_message: null });
    this.schedule(0);
    return row;
  }

  /** A queued execution is cancelled at once; a running one is stopped and its partial files removed. */
  async cancel(executionId: string): Promise<boolean> {
    const controller = this.running.get(executionId);
    if (controller) {
      controller.abort(new AppError('conflict', 'Cancelled by the user'));
      return true;
    }
    const result = await this.ctx.db
      .createQueryBuilder()
      .update(BackupExecutions)
      .set({ status: 'cancelled', finished_at: new Date(), error_message: 'Cancelled by the user before it started' })
      .where('id = :id AND status = :status', { id: executionId, status: 'queued' })
      .returning(['id', 'job_id'])
      .execute();
    const row = (result.raw as { id: string; job_id: string }[])[0];
    if (row) this.ctx.events.emit('execution.status', { execution_id: row.id, job_id: row.job_id, status: 'cancelled', error_message: null });
    return Boolean(row);
  }

  isRunning(executionId: string): boolean {
    return this.running.has(executionId);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const c of this.running.values()) c.abort(new AppError('conflict', 'DataGuardian is stopping'));
    await Promise.allSettled([...this.finished]);
  }

  private schedule(delay: number) {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pump(), delay);
    this.timer.unref?.();
  }

  private async pump(): Promise<void> {
    if (this.pumping || this.stopped) return;
    this.pumping = true;
    try {
      const { 'system.max_concurrent_backups': max } = await readSettings(this.ctx);
      while (!this.stopped && this.running.size < max) {
        const row = await this.claim();
        if (!row) break;
        this.launch(row);
      }
    } catch (e) {
      log.error('the backup queue could not claim work', e);
    } finally {
      this.pumping = false;
      this.schedule(POLL_MS);
    }
  }

  private async claim(): Promise<ExecutionRow | undefined> {
    const [rows] = (await this.ctx.db.query(
      `UPDATE backup_executions SET status = 'running', started_at = NOW()
       WHERE id = (
         SELECT e.id FROM backup_executions e
         WHERE e.status = 'queued'
           -- One execution at a time per job and per datasource: a restore never overlaps a backup of its target.
           AND NOT EXISTS (SELECT 1 FROM backup_executions r WHERE r.status = 'running' AND (r.job_id = e.job_id OR r.datasource_id = e.datasource_id))
         ORDER BY e.created_at
         FOR UPDATE SKIP LOCKED
         LIMIT 1)
       RETURNING id`,
    )) as [{ id: string }[], number];
    const id = rows?.[0]?.id;
    return id ? ((await this.ctx.db.getRepository(BackupExecutions).findOneBy({ id })) ?? undefined) : undefined;
  }

  private launch(row: ExecutionRow) {
    const controller = new AbortController();
    this.running.set(row.id, controller);
    this.ctx.events.emit('execution.status', { execution_id: row.id, job_id: row.job_id, status: 'running', error_message: null });
    const done = this.runExecution(row, controller.signal)
      .catch((e) => log.error(`execution ${row.id} ended with an unexpected error`, e))
      .finally(() => {
        this.running.delete(row.id);
        this.finished.delete(done);
        this.schedule(0);
      });
    this.finished.add(done);
  }
}
