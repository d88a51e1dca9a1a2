import type { CoreContext } from '../kernel/context.js';

/** A completed backup of a job, as retention weighs it. */
export interface JobBackup {
  id: string;
  at: Date;
  /** Pinned by the user (its reason, possibly empty), or null. */
  pinned: string | null;
  /** A whole server's backup: each database it lists and whether it was backed up; null for one database or folder. */
  databases: { name: string; ok: boolean }[] | null;
  /** A safety backup of only the databases a restore replaced. */
  someDatabases: boolean;
}

/**
 * The job's completed backups that still exist (a partial one's good databases included), newest first. Safety backups taken before a restore
 * run with the job's settings and carry its id, so they count as the job's backups like any other.
 */
export async function jobBackups(ctx: Pick<CoreContext, 'db'>, jobId: string): Promise<JobBackup[]> {
  const rows = (await ctx.db.query(
    `SELECT id, COALESCE(started_at, created_at) AS at, CASE WHEN pinned_at IS NULL THEN NULL ELSE COALESCE(pin_reason, '') END AS pinned,
            CASE WHEN jsonb_typeof(metadata->'server'->'databases') = 'array' THEN
              (SELECT json_agg(json_build_object('name', d->>'name', 'ok', d->>'status' = 'completed'))
                 FROM jsonb_array_elements(metadata->'server'->'databases') d) END AS databases,
            metadata ? 'only_databases' AS some_databases
     FROM backup_executions
     WHERE job_id = $1 AND operation = 'backup' AND status IN ('completed', 'partial') AND deleted_at IS NULL
     ORDER BY at DESC, id DESC`,
    [jobId],
  )) as { id: string; at: Date; pinned: string | null; databases: { name: string; ok: boolean }[] | null; some_databases: boolean }[];
  return rows.map((r) => ({ id: r.id, at: new Date(r.at), pinned: r.pinned, databases: r.databases, someDatabases: r.some_databases }));
}

/** Whether the user pinned a backup (since retention planned): then it stays. */
export async function isPinned(ctx: Pick<CoreContext, 'db'>, backupId: string): Promise<boolean> {
  const rows = (await ctx.db.query('SELECT 1 FROM backup_executions WHERE id = $1 AND pinned_at IS NOT NULL', [backupId])) as unknown[];
  return rows.length > 0;
}

/** Backups a queued or running restore or verification is going to read: retention must leave them. */
export async function backupsInUse(ctx: Pick<CoreContext, 'db'>, backupIds: readonly string[]): Promise<Map<string, 'restore' | 'verify'>> {
  if (backupIds.length === 0) return new Map();
  const rows = (await ctx.db.query(
    `SELECT metadata->>'source_execution_id' AS source, operation FROM backup_executions
     WHERE operation IN ('restore', 'verify') AND status IN ('queued', 'running')
       AND metadata->>'source_execution_id' = ANY($1::text[])`,
    [backupIds],
  )) as { source: string; operation: 'restore' | 'verify' }[];
  const used = new Map<string, 'restore' | 'verify'>();
  // A restore is the stronger claim: it is what the user waits for.
  for (const r of rows) if (used.get(r.source) !== 'restore') used.set(r.source, r.operation);
  return used;
}
