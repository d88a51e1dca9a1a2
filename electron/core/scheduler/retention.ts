import type { RetentionDecision, RetentionPolicy } from '../../../shared/schemas/job.js';

/** A completed backup of the job, as retention sees it. */
export interface RetentionCandidate {
  id: string;
  /** When the backup started: its folder's name and what the buckets are computed from. */
  at: Date;
  /** Pinned by the user (with its reason, possibly empty): kept whatever the rule says. */
  pinned?: string | null;
  /** A whole server's backup: each database it lists, and whether it was backed up (false: it failed in this run). */
  databases?: readonly { name: string; ok: boolean }[] | null;
  /** A safety backup of only the databases a restore replaced: not the list of what the job backs up. */
  someDatabases?: boolean;
}

/** Why a backup must stay whatever the rule says: a queued or running restore or verification reads it. */
export type InUse = ReadonlyMap<string, 'restore' | 'verify'>;

export interface RetentionInput {
  policy: RetentionPolicy;
  backups: readonly RetentionCandidate[];
  /** The job's schedule_timezone: a "day" is the user's day, not UTC's. */
  timeZone: string;
  inUse: InUse;
}

type Tier = 'daily' | 'weekly' | 'monthly' | 'yearly';

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The calendar fields of an instant in a timezone, read by Intl (which knows every DST rule). */
function calendarOf(at: Date, timeZone: string): { year: number; month: number; day: number } {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, format);
  }
  const parts = format.formatToParts(at);
  const field = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  return { year: field('year'), month: field('month'), day: field('day') };
}

/** ISO 8601 year and week of a calendar date (weeks start on Monday; week 1 holds the year's first Thursday). */
function isoWeek(year: number, month: number, day: number): { year: number; week: number } {
  // Pure calendar arithmetic on a date-only value: no timezone is involved any more.
  const date = new Date(Date.UTC(year, month - 1, day));
  const weekday = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - weekday);
  const weekYear = date.getUTCFullYear();
  const week = Math.ceil(((date.getTime() - Date.UTC(weekYear, 0, 1)) / 86_400_000 + 1) / 7);
  return { year: weekYear, week };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The period a backup falls in for each tier: its key is also the reason shown to the user ("daily 2026-11-29"). */
export function periodsOf(at: Date, timeZone: string): Record<Tier, string> {
  const { year, month, day } = calendarOf(at, timeZone);
  const week = isoWeek(year, month, day);
  return {
    daily: `${year}-${pad(month)}-${pad(day)}`,
    weekly: `${week.year}-W${pad(week.week)}`,
    monthly: `${year}-${pad(month)}`,
    yearly: String(year),
  };
}

const TIERS: { tier: Tier; count: (p: RetentionPolicy) => number | undefined }[] = [
  { tier: 'daily', count: (p) => p.keep_daily },
  { tier: 'weekly', count: (p) => p.keep_weekly },
  { tier: 'monthly', count: (p) => p.keep_monthly },
  { tier: 'yearly', count: (p) => p.keep_yearly },
];

/**
 * Which backups a job keeps, newest first, each with its reasons. The rule is restic's `forget`: walk
 * the backups newest to oldest; `max_backups` keeps the first N; each bucket tier keeps a backup when
 * its period differs from the last one that tier kept and the tier has count left. Tiers overlap, and
 * only periods that hold a backup count, so nothing ages out while backups fail. A tier whose count is
 * not used up when the walk reaches the oldest backup keeps that one too (restic 0.16+): while history
 * is shorter than the rule asks, it reaches as far back as it can. Then the safety
 * rules, which no policy overrides: the newest stays, a backup a restore or verification is waiting
 * for stays, a backup the user pinned stays, and the newest ones stay until `min_keep` are kept.
 */
export function planRetention(input: RetentionInput): RetentionDecision[] {
  const decisions = planRuns(input);
  return input.backups.some((b) => b.databases) ? keepEachDatabase(input, decisions) : decisions;
}

/**
 * A whole server's job: the rule also applies to each database over the runs that backed it up, so a run that
 * failed for a database (partial) does not count as a backup of it, and the last good backups of a database that
 * fails in the newer runs stay (with the whole run: its other files go with it later). Only databases the newest
 * run of the whole server lists (backed up or failed) are weighed: one gone from the server ages out with its runs.
 */
function keepEachDatabase({ policy, backups, timeZone }: RetentionInput, decisions: RetentionDecision[]): RetentionDecision[] {
  const newest = [...backups].sort((a, b) => b.at.getTime() - a.at.getTime() || (a.id < b.id ? 1 : -1)).find((b) => b.databases && !b.someDatabases);
  const byId = new Map(decisions.map((d) => [d.execution_id, d]));
  const rule = { ...policy, min_keep: 0 };
  for (const { name } of newest?.databases ?? []) {
    const holding = backups.filter((b) => b.databases?.some((d) => d.name === name && d.ok)).map(({ id, at }) => ({ id, at }));
    for (const mine of planRuns({ policy: rule, backups: holding, timeZone, inUse: new Map() })) {
      const run = byId.get(mine.execution_id)!;
      if (!mine.keep || run.keep) continue;
      run.keep = true;
      run.reasons.push(`${name}: ${mine.reasons.join(', ')}`);
    }
  }
  return decisions;
}

/** The rule over the runs themselves, each run one backup. */
function planRuns({ policy, backups, timeZone, inUse }: RetentionInput): RetentionDecision[] {
  const sorted = [...backups].sort((a, b) => b.at.getTime() - a.at.getTime() || (a.id < b.id ? 1 : -1));
  const left = new Map(TIERS.map(({ tier, count }) => [tier, count(policy) ?? 0]));
  const lastKept = new Map<Tier, string>();
  let lastLeft = policy.max_backups ?? 0;

  const decisions = sorted.map((backup, index): RetentionDecision => {
    const reasons: string[] = [];
    if (index === 0) reasons.push('newest');
    if (lastLeft > 0) {
      lastLeft -= 1;
      reasons.push(`last ${policy.max_backups}`);
    }
    const periods = periodsOf(backup.at, timeZone);
    const unused: Tier[] = [];
    for (const { tier } of TIERS) {
      const remaining = left.get(tier)!;
      if (remaining > 0 && lastKept.get(tier) !== periods[tier]) {
        left.set(tier, remaining - 1);
        lastKept.set(tier, periods[tier]);
        reasons.push(`${tier} ${periods[tier]}`);
      } else if (remaining > 0) unused.push(tier);
    }
    if (index === sorted.length - 1 && unused.length > 0) {
      reasons.push(`oldest (${unused.join(' and ')} ${unused.length > 1 ? 'counts' : 'count'} not used up)`);
    }
    const use = inUse.get(backup.id);
    if (use) reasons.push(use === 'restore' ? 'used by a restore' : 'used by a verification');
    if (backup.pinned !== undefined && backup.pinned !== null) reasons.push(backup.pinned ? `pinned: ${backup.pinned}` : 'pinned');
    return { execution_id: backup.id, started_at: backup.at.toISOString(), keep: reasons.length > 0, reasons };
  });

  // The floor is filled with the newest backups the rule let go, since they are the likeliest to be wanted.
  let kept = decisions.filter((d) => d.keep).length;
  for (const d of decisions) {
    if (kept >= policy.min_keep) break;
    if (d.keep) continue;
    d.keep = true;
    d.reasons.push('min_keep');
    kept += 1;
  }
  return decisions;
}
