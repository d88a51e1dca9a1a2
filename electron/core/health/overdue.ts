import { nextRuns } from '../../../shared/cron.js';
import type { Settings } from '../../../shared/schemas/settings.js';
import { BackupJobs, type JobRow } from '../db/entities.js';
import { duration, observe, type Notice } from './conditions.js';
import type { HealthContext } from './datasource.js';
import { scoped } from '../kernel/log.js';

const log = scoped('health');

/** Slack on top of 1.5x the schedule's longest gap: a backup that runs long or is retried is not yet overdue. */
export const OVERDUE_GRACE_MS = 60 * 60_000;
/** A job is late when its newest backup is older than this many times its schedule's longest gap (plus the grace). */
const GAP_FACTOR = 1.5;
/** Slots looked at for the longest gap: a year of a weekly job, a month of an hourly one's nights and weekends. */
const SLOTS = 60;

/** The longest time between two consecutive slots of the schedule after `from`, or null when it has fewer than two. */
export function longestGap(job: Pick<JobRow, 'schedule_cron' | 'schedule_timezone'>, from: Date): number | null {
  const runs = nextRuns(job.schedule_cron, job.schedule_timezone, SLOTS, from).map((r) => new Date(r).getTime());
  if (runs.length < 2) return null;
  let longest = 0;
  for (let i = 1; i < runs.length; i++) longest = Math.max(longest, runs[i]! - runs[i - 1]!);
  return longest;
}

/** How long after `since` (its newest backup, or since when it is expected to run) the job is overdue; null: never. */
export function overdueAfter(job: Pick<JobRow, 'schedule_cron' | 'schedule_timezone' | 'jitter_minutes'>, since: Date): number | null {
  const gap = longestGap(job, since);
  return gap === null ? null : GAP_FACTOR * gap + OVERDUE_GRACE_MS + job.jitter_minutes * 60_000;
}

interface JobState {
  watched_since: Date | null;
  newest: Date | null;
  in_flight: boolean;
}

/**
 * A backup that did not happen is an alert. A job is expected to back up from the moment it is
 * enabled, scheduled and not paused (`backup_watch.since`, by the app's clock, so a pause or a disabled
 * spell never counts); it is overdue when its newest completed backup (or that moment) is older than
 * 1.5x its schedule's longest gap plus a grace. A paused or disabled job is never overdue: its condition
 * clears without a word. `judgeFrom`: before it (the app just started, a catch-up may be on its way)
 * no job is found overdue, though one that backed up is cleared.
 */
export async function checkOverdue(ctx: HealthContext, settings: Settings, judgeFrom: Date): Promise<void> {
  const now = ctx.clock.now();
  const paused = settings['schedules.paused'];
  const cooldownMs = settings['notifications.reminder_cooldown_hours'] * 3_600_000;
  for (const job of await ctx.db.getRepository(BackupJobs).find()) {
    await checkJob(ctx, job, { now, paused, cooldownMs, judgeFrom }).catch((e: unknown) => log.error(`could not tell whether job ${job.name} is overdue`, e));
  }
}

async function checkJob(ctx: HealthContext, job: JobRow, o: { now: Date; paused: boolean; cooldownMs: number; judgeFrom: Date }): Promise<void> {
  const { now, paused, cooldownMs, judgeFrom } = o;
  const expected = job.enabled && !paused && longestGap(job, now) !== null;
  if (!expected) {
    await ctx.db.query('DELETE FROM backup_watch WHERE job_id = $1', [job.id]);
    await observe(ctx, { kind: 'backup_overdue', entity_id: job.id, level: null, now, cooldownMs, message: () => null });
    return;
  }
  await ctx.db.query('INSERT INTO backup_watch (job_id, since) VALUES ($1, $2) ON CONFLICT DO NOTHING', [job.id, now]);
  const [state] = (await ctx.db.query(
    `SELECT w.since AS watched_since,
            (SELECT max(finished_at) FROM backup_executions WHERE job_id = $1 AND operation = 'backup' AND status IN ('completed', 'partial') AND deleted_at IS NULL) AS newest,
            EXISTS (SELECT 1 FROM backup_executions WHERE job_id = $1 AND operation = 'backup' AND status IN ('queued', 'running')) AS in_flight
       FROM backup_watch w WHERE w.job_id = $1`,
    [job.id],
  )) as JobState[];
  if (!state) return;
  const since = new Date(Math.max(state.watched_since?.getTime() ?? 0, state.newest?.getTime() ?? 0));
  const limit = overdueAfter(job, since);
  const overdue = limit !== null && now.getTime() - since.getTime() > limit;
  // A run on its way decides; a fresh start gives the scheduler's catch-up its chance first.
  if (overdue && (state.in_flight || now < judgeFrom)) return;
  await observe(ctx, {
    kind: 'backup_overdue',
    entity_id: job.id,
    level: overdue ? 'critical' : null,
    now,
    cooldownMs,
    message: (notice) => overdueMessage(job, notice, state.newest, now),
  });
}

export function overdueMessage(job: JobRow, notice: Notice, newest: Date | null, now: Date) {
  const base = { type: 'backup_overdue', entity_type: 'backup_job' as const, entity_id: job.id, metadata: { newest_backup_at: newest?.toISOString() ?? null } };
  if (notice === 'cleared') {
    return { ...base, severity: 'info' as const, title: `Backups are on time again: ${job.name}`, message: `${job.name} completed a backup.` };
  }
  const age = newest ? `Its newest completed backup is ${duration(newest.getTime(), now.getTime())} old` : 'It has no completed backup yet';
  return {
    ...base,
    severity: 'critical' as const,
    title: `${notice === 'reminder' ? 'Still: ' : ''}Backup overdue: ${job.name}`,
    message: `${age}, though its schedule runs it more often. Look at its latest runs: a failing datasource or storage, or the machine off at its times.`,
  };
}
