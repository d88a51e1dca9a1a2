import { nextRuns } from '../../../shared/cron.js';
import { BackupJobs } from '../db/entities.js';
import type { Executions } from '../executions/index.js';
import type { CoreContext } from '../kernel/context.js';
import { scoped } from '../kernel/log.js';

const log = scoped('cleanup-worker');
/** Every day at 04:00: after the usual night backups, before the working day. */
const DAILY = '0 4 * * *';

/**
 * The seed's CleanupWorker: once a day, at 04:00 in this machine's timezone, every job's retention
 * is applied, so backups also expire for a job that stopped running (its backups fail, or it was
 * disabled). Driven by the injectable clock, so tests move days without waiting.
 */
export class CleanupWorker {
  private cancel: (() => void) | undefined;
  private stopped = true;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: Pick<CoreContext, 'db' | 'clock'>,
    private readonly executions: Pick<Executions, 'cleanup'>,
    private readonly timeZone: string = Intl.DateTimeFormat().resolvedOptions().timeZone,
  ) {}

  start(): void {
    this.stopped = false;
    this.arm();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancel?.();
    await this.running;
  }

  /** Queues a cleanup of every job whose rule lets a backup go. */
  async cleanAll(): Promise<void> {
    for (const job of await this.ctx.db.getRepository(BackupJobs).find({ order: { name: 'ASC' } })) {
      try {
        await this.executions.cleanup(job.id, 'schedule');
      } catch (e) {
        log.warn(`the daily cleanup of job ${job.name} could not start: ${(e as Error).message}`);
      }
    }
  }

  private arm(): void {
    if (this.stopped) return;
    // From a second later: the slot that just fired must not be found again.
    const [next] = nextRuns(DAILY, this.timeZone, 1, new Date(this.ctx.clock.now().getTime() + 1000));
    if (!next) return;
    this.cancel = this.ctx.clock.at(new Date(next), () => {
      this.running = this.cleanAll()
        .catch((e: unknown) => log.error('the daily cleanup failed', e))
        .finally(() => this.arm());
    });
  }
}
