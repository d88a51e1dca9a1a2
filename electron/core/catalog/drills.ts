import type { LastDrill } from '../../../shared/schemas/drill.js';
import type { CoreContext } from '../kernel/context.js';

/** The last drill that ended, per job (what the job and the restore dialog show). */
export async function lastDrills(ctx: Pick<CoreContext, 'db'>, jobIds: string[]): Promise<Map<string, LastDrill>> {
  const out = new Map<string, LastDrill>();
  if (jobIds.length === 0) return out;
  const rows = (await ctx.db.query(
    `SELECT DISTINCT ON (job_id) job_id, id, status, finished_at, (metadata->>'rto_seconds')::float AS rto, error_message,
            coalesce((metadata->>'write_only')::boolean, false) AS write_only
     FROM backup_executions
     WHERE operation = 'drill' AND job_id = ANY($1) AND status IN ('completed', 'failed') AND finished_at IS NOT NULL
     ORDER BY job_id, finished_at DESC`,
    [jobIds],
  )) as { job_id: string; id: string; status: string; finished_at: Date; rto: number | null; error_message: string | null; write_only: boolean }[];
  for (const r of rows) {
    out.set(r.job_id, {
      execution_id: r.id,
      status: r.status,
      at: r.finished_at.toISOString(),
      // A write-only drill restored nothing: it measured no restore.
      rto_seconds: r.write_only ? null : r.rto,
      error_message: r.error_message,
    });
  }
  return out;
}

/** Each job's last `limit` drills that ended, oldest first: the Overview charts their restore time. */
export async function drillHistory(
  ctx: Pick<CoreContext, 'db'>,
  limit: number,
): Promise<Map<string, { execution_id: string; at: string; status: 'completed' | 'failed'; rto_seconds: number | null }[]>> {
  const rows = (await ctx.db.query(
    `SELECT job_id, id, status, finished_at, rto FROM (
       SELECT job_id, id, status, finished_at,
              CASE WHEN coalesce((metadata->>'write_only')::boolean, false) THEN NULL ELSE (metadata->>'rto_seconds')::float END AS rto,
              row_number() OVER (PARTITION BY job_id ORDER BY finished_at DESC) AS n
       FROM backup_executions
       WHERE operation = 'drill' AND job_id IS NOT NULL AND status IN ('completed', 'failed') AND finished_at IS NOT NULL
     ) recent WHERE n <= $1 ORDER BY job_id, finished_at`,
    [limit],
  )) as { job_id: string; id: string; status: 'completed' | 'failed'; finished_at: Date; rto: number | null }[];
  const out = new Map<string, { execution_id: string; at: string; status: 'completed' | 'failed'; rto_seconds: number | null }[]>();
  for (const r of rows)
    out.set(r.job_id, [...(out.get(r.job_id) ?? []), { execution_id: r.id, at: r.finished_at.toISOString(), status: r.status, rto_seconds: r.rto }]);
  return out;
}
