import type { EventPayload } from '../../../shared/contract.js';
import { datasourceConfig } from '../catalog/datasources.js';
import { BackupExecutions, BackupJobs, Datasources, type JobRow } from '../db/entities.js';
import { testConnection } from '../engines/index.js';
import type { Executions } from '../executions/index.js';
import type { CoreContext } from '../kernel/context.js';
import { scoped } from '../kernel/log.js';
import { readSettings } from '../kernel/settings.js';
import { reconcileSchedules } from './pause.js';
import { drillSchedule } from './drill-slots.js';
import { decide, dueAt, retryDelayMs } from './slots.js';
import { watchWallClock } from './wake.js';

const log = scoped('scheduler');

/** A catch-up waits this long, at most, for its datasource to answer (the network is often not up right after a wake). */
const READY_WAIT_MS = 10 * 60_000;
const READY_RECHECK_MS = 30_000;

interface DueRetry {
  id: string;
  at: Date;
}

/**
 * Runs every enabled job at its slots. Due-ness is the persisted `next_execution_at`; each slot is
 * claimed in the database (executions.claimSlot), so any number of instances and restarts run it once.
 * It looks again at the earliest due time (a timer on the app's Clock), after any change of a job,
 * a setting or a failed run, every `system.scheduler_interval_ms` (what other instances changed), and
 * at once after a sleep or a wall-clock jump. Looks never overlap: each reads the clock when it starts.
 */
export class Scheduler {
  private stopped = true;
  private chain: Promise<void> = Promise.resolve();
  private next: Promise<void> | undefined;
  private cancelTimer: (() => void) | undefined;
  private readonly stops: (() => void)[] = [];
  /** Catch-ups waiting for their datasource: job id → since when. */
  private readonly waiting = new Map<string, number>();

  constructor(
    private readonly ctx: CoreContext,
    private readonly executions: Executions,
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    await reconcileSchedules(this.ctx);
    this.stops.push(
      this.ctx.events.onAny((name, payload) => {
        if (name === 'entity.changed') {
          const { entity } = payload as EventPayload<'entity.changed'>;
          if (entity === 'job' || entity === 'settings') void this.look();
        } else if (name === 'execution.status' && (payload as EventPayload<'execution.status'>).status === 'failed') void this.look();
      }),
      watchWallClock(
        () => this.ctx.clock.now().getTime(),
        (drift) => {
          log.info(`the wall clock moved ${Math.round(drift / 1000)} s against the monotonic clock (sleep, or a clock change): looking again`);
          void this.look();
        },
      ),
    );
    const { 'system.scheduler_interval_ms': every } = await readSettings(this.ctx.db);
    const poll = setInterval(() => void this.look(), every);
    poll.unref?.();
    this.stops.push(() => clearInterval(poll));
    await this.look();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTimer?.();
    for (const stop of this.stops.splice(0)) stop();
    await this.settled();
  }

  /** Resolves once no look is running or waiting (tests step the clock, then wait for this). */
  async settled(): Promise<void> {
    for (let seen; seen !== this.chain;) {
      seen = this.chain;
      await seen;
    }
  }

  /** Asks for a look; calls while one waits to start share it. */
  look(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.next ??= this.chain = this.chain.then(async () => {
      this.next = undefined;
      try {
        await this.pass();
      } catch (e) {
        log.error('the scheduler could not look at the jobs', e);
      }
    });
    return this.next;
  }

  private async pass(): Promise<void> {
    if (this.stopped) return;
    const now = this.ctx.clock.now();
    const paused = (await readSettings(this.ctx.db))['schedules.paused'];
    const wakeAt: number[] = [];
    if (!paused) {
      const enabled = await this.ctx.db.getRepository(BackupJobs).find({ where: { enabled: true } });
      const jobs = enabled.filter((j): j is JobRow & { next_execution_at: Date } => j.next_execution_at !== null);
      for (const job of jobs) {
        if (this.stopped) return;
        const due = dueAt(job, job.next_execution_at);
        if (due > now) {
          wakeAt.push(due.getTime());
          continue;
        }
        const again = await this.runSlot(job, now);
        if (again) wakeAt.push(again);
      }
      for (const job of enabled.filter((j): j is JobRow & { next_drill_at: Date } => j.drill_cron !== null && j.next_drill_at !== null)) {
        if (this.stopped) return;
        const again = await this.runDrillSlot(job, now);
        if (again) wakeAt.push(again);
      }
      for (const retry of await this.dueRetries()) {
        if (retry.at > now) wakeAt.push(retry.at.getTime());
        else {
          const failed = await this.ctx.db.getRepository(BackupExecutions).findOneBy({ id: retry.id });
          if (failed) await this.executions.retry(failed);
        }
      }
    }
    this.arm(wakeAt.length ? Math.min(...wakeAt) : null);
  }

  /** Claims the job's due slot; answers when to look again: its next slot, or soon if a catch-up waits for its datasource. */
  private async runSlot(job: JobRow & { next_execution_at: Date }, now: Date): Promise<number | null> {
    const decision = decide(job, now);
    if (decision.run?.trigger === 'catch_up' && !(await this.datasourceAnswers(job, now))) return now.getTime() + READY_RECHECK_MS;
    this.waiting.delete(job.id);
    const row = await this.executions.claimSlot({ jobId: job.id, ...decision });
    if (row)
      log.info(`job ${job.name}: ${row.status === 'skipped' ? 'skipped' : row.trigger} run for ${decision.run?.slot.toISOString()} (execution ${row.id})`);
    else if (!decision.run) log.info(`job ${job.name}: missed slots dropped (catch-up: skip)`);
    return decision.next ? dueAt(job, decision.next).getTime() : null;
  }

  /**
   * A job's drill slot, once due: claimed once, its drill queued (the queue runs it after the job's backup, never beside it,
   * and one drill at a time on this machine). Missed slots are caught up once, as the job's backups are. Answers when to look again.
   */
  private async runDrillSlot(job: JobRow & { next_drill_at: Date }, now: Date): Promise<number | null> {
    if (job.next_drill_at > now) return job.next_drill_at.getTime();
    const decision = decide(drillSchedule(job), now);
    try {
      const row = await this.executions.claimDrillSlot({ jobId: job.id, ...decision });
      if (row) log.info(`job ${job.name}: ${row.trigger} drill for ${decision.run?.slot.toISOString()} (execution ${row.id})`);
    } catch (e) {
      // No backup to drill yet, or one already queued: the slot is spent, the next one tries again.
      log.warn(`job ${job.name}: its drill of ${decision.run?.slot.toISOString()} could not start: ${(e as Error).message}`);
    }
    return decision.next?.getTime() ?? null;
  }

  /** True once the datasource answers, or once it has been waited for long enough (the run then fails and says why). */
  private async datasourceAnswers(job: JobRow, now: Date): Promise<boolean> {
    const since = this.waiting.get(job.id) ?? now.getTime();
    this.waiting.set(job.id, since);
    const ds = await this.ctx.db.getRepository(Datasources).findOneBy({ id: job.datasource_id });
    if (!ds) return true;
    const result = await testConnection(ds.type, datasourceConfig(this.ctx, ds), { timeoutMs: 5000 });
    if (result.ok || now.getTime() - since >= READY_WAIT_MS) return true;
    log.info(`job ${job.name}: waiting for ${ds.name} to answer before catching up (${result.message})`);
    return false;
  }

  /** Failed scheduled runs that have retries left and were not retried nor overtaken by a later slot. */
  private async dueRetries(): Promise<DueRetry[]> {
    const rows = (await this.ctx.db.query(
      `SELECT e.id, e.attempt, e.finished_at, j.retry_delay_minutes FROM backup_executions e JOIN backup_jobs j ON j.id = e.job_id
       WHERE e.status = 'failed' AND e.trigger <> 'manual' AND e.scheduled_for IS NOT NULL AND j.enabled AND e.attempt <= j.max_retries
         AND NOT EXISTS (SELECT 1 FROM backup_executions r WHERE r.job_id = e.job_id AND r.scheduled_for = e.scheduled_for AND r.attempt > e.attempt)
         AND NOT EXISTS (SELECT 1 FROM backup_executions n WHERE n.job_id = e.job_id AND n.scheduled_for > e.scheduled_for AND n.status <> 'skipped')`,
    )) as { id: string; attempt: number; finished_at: Date | null; retry_delay_minutes: number }[];
    return rows.map((r) => ({
      id: r.id,
      at: new Date((r.finished_at ?? new Date(0)).getTime() + retryDelayMs(r, r.attempt)),
    }));
  }

  private arm(at: number | null) {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    if (at === null || this.stopped) return;
    // The clock moved past it during this look: look again now rather than rely on how a clock treats a past time.
    if (at <= this.ctx.clock.now().getTime()) return void this.look();
    this.cancelTimer = this.ctx.clock.at(new Date(at), () => void this.look());
  }
}
