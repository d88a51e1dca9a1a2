import type { JobRow } from '../db/entities.js';
import { nextExecution } from './slots.js';

/** When the job's next drill is due: null without drill_cron, or while the job or every schedule is paused. In the job's timezone. */
export function nextDrill(job: Pick<JobRow, 'drill_cron' | 'schedule_timezone' | 'enabled'>, now: Date, schedulesPaused: boolean): Date | null {
  if (!job.drill_cron) return null;
  return nextExecution({ schedule_cron: job.drill_cron, schedule_timezone: job.schedule_timezone, enabled: job.enabled }, now, schedulesPaused);
}

/** A job's drill schedule as a schedule of its own: its cron in the job's timezone, due at `next_drill_at`, no random delay. */
export function drillSchedule(job: JobRow & { next_drill_at: Date }): JobRow & { next_execution_at: Date } {
  return { ...job, schedule_cron: job.drill_cron!, next_execution_at: job.next_drill_at, jitter_minutes: 0 };
}
