import { createHash } from 'node:crypto';
import { nextRuns } from '../../../shared/cron.js';
import type { JobRow } from '../db/entities.js';
import type { SlotClaim } from '../executions/queue.js';

type Schedule = Pick<JobRow, 'schedule_cron' | 'schedule_timezone'>;

/** A run that starts within this of its time (plus the job's random delay) is on time; later, it was missed. */
export const ON_TIME_MS = 2 * 60_000;

/** The job's first slot strictly after `after` (shared/cron.ts: the same slots the UI previews). */
export function slotAfter(job: Schedule, after: Date): Date | null {
  const [next] = nextRuns(job.schedule_cron, job.schedule_timezone, 1, after);
  return next ? new Date(next) : null;
}

/** When the job runs next: null while it, or every schedule, is paused. */
export function nextExecution(job: Schedule & Pick<JobRow, 'enabled'>, now: Date, schedulesPaused: boolean): Date | null {
  return job.enabled && !schedulesPaused ? slotAfter(job, now) : null;
}

/**
 * The job's random delay for one slot, 0 to `jitter_minutes`: derived from the job and the slot, so
 * every instance and every restart agrees on it without storing it.
 */
export function jitterOf(job: Pick<JobRow, 'id' | 'jitter_minutes'>, slot: Date): number {
  if (job.jitter_minutes <= 0) return 0;
  const hash = createHash('sha256').update(`${job.id}|${slot.toISOString()}`).digest().readUInt32BE(0);
  return (hash % (job.jitter_minutes * 60)) * 1000;
}

/** When a slot of the job is due: its time plus its random delay. */
export const dueAt = (job: Pick<JobRow, 'id' | 'jitter_minutes'>, slot: Date): Date => new Date(slot.getTime() + jitterOf(job, slot));

/** The latest slot at or before `now`, knowing `due` is one (a bisection: a minutely job away for a month takes ~25 looks). */
function latestSlot(job: Schedule, due: Date, now: Date): Date {
  let lo = due.getTime();
  let hi = now.getTime();
  for (;;) {
    const after = slotAfter(job, new Date(lo));
    if (!after || after.getTime() > hi) return new Date(lo);
    const mid = Math.floor((after.getTime() + hi) / 2);
    const beyond = slotAfter(job, new Date(mid));
    if (beyond && beyond.getTime() <= hi) lo = beyond.getTime();
    else {
      lo = after.getTime();
      hi = mid;
    }
  }
}

/**
 * What to do with a due job (`next_execution_at` reached): the slot to run and why, and the next slot.
 * However many slots were missed, at most one run is made: the latest slot, on time (`schedule`), or
 * late after the app was away (`catch_up`, unless the job says `skip`).
 */
export function decide(job: JobRow & { next_execution_at: Date }, now: Date): Omit<SlotClaim, 'jobId'> {
  const latest = latestSlot(job, job.next_execution_at, now);
  const onTime = now.getTime() - latest.getTime() <= ON_TIME_MS + job.jitter_minutes * 60_000;
  const trigger = onTime ? 'schedule' : job.catch_up === 'once' ? 'catch_up' : null;
  return { due: job.next_execution_at, next: slotAfter(job, now), run: trigger ? { slot: latest, trigger } : null };
}

/** How long after a failed attempt the next one starts: the job's delay, three times longer each time (5, 15, 45 min). */
export const retryDelayMs = (job: Pick<JobRow, 'retry_delay_minutes'>, attempt: number): number => job.retry_delay_minutes * 60_000 * 3 ** (attempt - 1);
