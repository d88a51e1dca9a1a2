import { randomInt } from 'node:crypto';
import { AppError } from '../../../shared/errors.js';
import type { JobRow } from '../db/entities.js';
import type { CoreContext } from '../kernel/context.js';

/**
 * The backup of a job a drill takes, as the job says: its newest, one at random, or the oldest still kept
 * (retention's next to go: the one most likely to have rotted). Only completed backups with a copy on a storage.
 */
export async function pickDrillBackup(ctx: Pick<CoreContext, 'db'>, job: Pick<JobRow, 'id' | 'drill_pick'>): Promise<string> {
  const rows = (await ctx.db.query(
    `SELECT e.id FROM backup_executions e
     WHERE e.job_id = $1 AND e.operation = 'backup' AND e.status = 'completed' AND e.deleted_at IS NULL
       AND EXISTS (SELECT 1 FROM backup_copies c WHERE c.execution_id = e.id AND c.status = 'completed')
     ORDER BY e.created_at DESC, e.id DESC`,
    [job.id],
  )) as { id: string }[];
  if (rows.length === 0) throw new AppError('not_found', 'This job has no completed backup to drill yet: run a backup first');
  if (job.drill_pick === 'oldest') return rows.at(-1)!.id;
  if (job.drill_pick === 'random') return rows[randomInt(rows.length)]!.id;
  return rows[0]!.id;
}
