import type { DataSource } from 'typeorm';
import { BackupJobs } from '../db/entities.js';
import type { Clock } from '../kernel/clock.js';
import { readSettings } from '../kernel/settings.js';
import { nextDrill } from './drill-slots.js';
import { nextExecution } from './slots.js';

/**
 * Makes every job's `next_execution_at` say what will happen: null while it or all schedules are
 * paused, else its next slot. `resumed` recomputes from now (what was missed while paused is not caught
 * up); otherwise a job keeps the slot it has, since a past one is what catch-up runs from.
 */
export async function reconcileSchedules(ctx: { db: DataSource; clock: Clock }, options: { resumed?: boolean } = {}): Promise<void> {
  const paused = (await readSettings(ctx.db))['schedules.paused'];
  const now = ctx.clock.now();
  const repo = ctx.db.getRepository(BackupJobs);
  for (const job of await repo.find()) {
    const keep = !options.resumed && job.next_execution_at !== null && job.enabled && !paused;
    const next = keep ? job.next_execution_at : nextExecution(job, now, paused);
    if (next?.getTime() !== job.next_execution_at?.getTime()) await repo.update({ id: job.id }, { next_execution_at: next });
    const keepDrill = !options.resumed && job.next_drill_at !== null && job.enabled && !paused;
    const nextDrillAt = keepDrill ? job.next_drill_at : nextDrill(job, now, paused);
    if (nextDrillAt?.getTime() !== job.next_drill_at?.getTime()) await repo.update({ id: job.id }, { next_drill_at: nextDrillAt });
  }
}
