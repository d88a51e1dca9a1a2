import type { CoreContext } from '../kernel/context.js';
import type { NewNotification, Notifier } from '../notify/notifier.js';

/**
 * "Not too loud": a problem (a lost connection, an unreachable or full storage, an overdue job) is a
 * condition kept in `alert_conditions`, keyed by kind and entity. It notifies when it is raised, when
 * its level changes, at most once per cooldown while it lasts (a reminder), and once when it clears.
 * Kept in the database, so a restart neither repeats an alert nor forgets one.
 */
export type Level = 'warning' | 'critical';
export type Notice = 'raised' | 'escalated' | 'eased' | 'reminder' | 'cleared';

export interface Condition {
  kind: string;
  entity_id: string;
  level: Level;
  raised_at: Date;
  last_notified_at: Date;
  cleared_at: Date | null;
}

const RANK: Record<Level, number> = { warning: 1, critical: 2 };

/** What the user is to be told, given the stored condition and what is observed now (null: the problem is gone). */
export function noticeFor(current: Condition | null, observed: Level | null, now: Date, cooldownMs: number): Notice | null {
  const active = current !== null && current.cleared_at === null;
  if (observed === null) return active ? 'cleared' : null;
  if (!active) return 'raised';
  if (observed !== current.level) return RANK[observed] > RANK[current.level] ? 'escalated' : 'eased';
  return now.getTime() - current.last_notified_at.getTime() >= cooldownMs ? 'reminder' : null;
}

interface Observation {
  kind: string;
  entity_id: string;
  /** The problem's level now, or null when it is not there. */
  level: Level | null;
  now: Date;
  cooldownMs: number;
  /**
   * The notification for a notice (`previous` is the condition as it was: its level and since when);
   * null to change the state without a word (e.g. a job the user paused is no longer overdue).
   */
  message(notice: Notice, previous: Condition | null): NewNotification | null;
}

interface Row extends Omit<Condition, 'level'> {
  level: string;
}

/**
 * Records an observation and sends what it calls for. The row is locked while deciding, so a manual
 * check racing the monitor (or another instance on the same metadata database) cannot notify twice.
 */
export async function observe(ctx: Pick<CoreContext, 'db'> & { notifier: Notifier }, o: Observation): Promise<Notice | null> {
  const decided = await ctx.db.transaction(async (m) => {
    const [row] = (await m.query(
      `SELECT kind, entity_id, level, raised_at, last_notified_at, cleared_at FROM alert_conditions WHERE kind = $1 AND entity_id = $2 FOR UPDATE`,
      [o.kind, o.entity_id],
    )) as Row[];
    const current = row ? { ...row, level: row.level as Level } : null;
    const notice = noticeFor(current, o.level, o.now, o.cooldownMs);
    if (!notice) return null;
    if (notice === 'cleared') {
      await m.query(`UPDATE alert_conditions SET cleared_at = $3 WHERE kind = $1 AND entity_id = $2`, [o.kind, o.entity_id, o.now]);
    } else if (!current) {
      // Two first observations at once: only the one that inserted speaks.
      const inserted = (await m.query(
        `INSERT INTO alert_conditions (kind, entity_id, level, raised_at, last_notified_at) VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT DO NOTHING RETURNING kind`,
        [o.kind, o.entity_id, o.level, o.now],
      )) as unknown[];
      if (inserted.length === 0) return null;
    } else {
      await m.query(
        `UPDATE alert_conditions SET level = $3, last_notified_at = $4, cleared_at = NULL,
           raised_at = CASE WHEN cleared_at IS NULL THEN raised_at ELSE $4 END
         WHERE kind = $1 AND entity_id = $2`,
        [o.kind, o.entity_id, o.level, o.now],
      );
    }
    return { notice, previous: current };
  });
  if (!decided) return null;
  const note = o.message(decided.notice, decided.previous);
  if (note) await ctx.notifier.notify(note);
  return decided.notice;
}

/** Conditions of datasources, storages and jobs that no longer exist. */
export async function forgetRemoved(ctx: Pick<CoreContext, 'db'>): Promise<void> {
  await ctx.db.query(
    `DELETE FROM alert_conditions c WHERE NOT EXISTS (SELECT 1 FROM datasources WHERE id = c.entity_id)
       AND NOT EXISTS (SELECT 1 FROM storage_locations WHERE id = c.entity_id) AND NOT EXISTS (SELECT 1 FROM backup_jobs WHERE id = c.entity_id)`,
  );
}

/** "5 hours", "3 days": how long a problem has lasted, for a reminder. */
export function duration(fromMs: number, toMs: number): string {
  const minutes = Math.max(1, Math.round((toMs - fromMs) / 60_000));
  if (minutes < 120) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} hours`;
  return `${Math.round(hours / 24)} days`;
}
