import { In, IsNull, Not } from 'typeorm';
import { removeBackupFolder } from '../catalog/remove.js';
import { openSavedStorage } from '../catalog/storages.js';
import { BackupCopies, StorageLocations } from '../db/entities.js';
import type { CoreContext } from '../kernel/context.js';
import { instanceId, instanceState } from '../kernel/instance.js';
import { scoped } from '../kernel/log.js';

const log = scoped('recovery');

/** How a run proves its process is alive: refreshed every `heartbeatMs`, taken over once older than `staleMs`, looked for every `checkMs`. */
export interface Lease {
  heartbeatMs: number;
  staleMs: number;
  checkMs: number;
}

export const DEFAULT_LEASE: Lease = { heartbeatMs: 15_000, staleMs: 120_000, checkMs: 30_000 };

export const INTERRUPTED = 'Interrupted: DataGuardian stopped while this was running. Start it again.';

/**
 * Fails the runs whose process died (a crash, a kill, a power cut) and removes what they left on
 * storages. A run claimed on this machine by a process that is gone (restic's stale-lock rule: same host,
 * process gone) is taken at once; any other is taken once its lease runs out, compared on the metadata
 * database's clock, the one every instance sharing it agrees on. Runs of this process are never taken.
 */
export async function takeOverStaleRuns(ctx: CoreContext, lease: Lease, own: readonly string[]): Promise<void> {
  const running = (await ctx.db.query(
    `SELECT id, instance, COALESCE(heartbeat_at, started_at, created_at) < now() - make_interval(secs => $1) AS stale
     FROM backup_executions WHERE status = 'running' AND NOT (id = ANY($2::uuid[]))`,
    [lease.staleMs / 1000, own],
  )) as { id: string; instance: unknown; stale: boolean }[];
  const why = new Map<string, string>();
  for (const run of running) {
    const owner = instanceId.safeParse(run.instance);
    if (owner.success && instanceState(owner.data) === 'dead') why.set(run.id, `its process (pid ${owner.data.pid}) is gone`);
    else if (run.stale) why.set(run.id, 'its process stopped refreshing its lease');
  }
  if (why.size === 0) return;
  const [rows] = (await ctx.db.query(
    `UPDATE backup_executions SET status = 'failed', finished_at = $1, error_message = $2
     WHERE status = 'running' AND id = ANY($3::uuid[])
     RETURNING id, job_id, operation`,
    [ctx.clock.now(), INTERRUPTED, [...why.keys()]],
  )) as [{ id: string; job_id: string | null; operation: string }[], number];
  for (const row of rows) {
    log.warn(`execution ${row.id} (${row.operation}) was interrupted: ${why.get(row.id)}`);
    ctx.events.emit('execution.status', { execution_id: row.id, job_id: row.job_id, status: 'failed', error_message: INTERRUPTED });
    await removeLeftovers(ctx, row.id, row.job_id).catch((e: unknown) => log.error(`could not clean up after interrupted execution ${row.id}`, e));
  }
}

/**
 * Nothing of an interrupted backup may stay: each copy's folder is recorded when its write starts, so
 * every file there (parts, a manifest, a half-written temp file) goes; then the storage drops what it
 * holds apart from its files under the job's folder (S3's open multipart uploads). One run per job at
 * a time, so nothing else is writing there.
 */
async function removeLeftovers(ctx: CoreContext, executionId: string, jobId: string | null): Promise<void> {
  const copies = ctx.db.getRepository(BackupCopies);
  const started = await copies.find({ where: { execution_id: executionId, backup_path: Not(IsNull()) } });
  if (started.length === 0) return;
  const storages = await ctx.db.getRepository(StorageLocations).findBy({ id: In(started.map((c) => c.storage_location_id)) });
  for (const copy of started) {
    const row = storages.find((s) => s.id === copy.storage_location_id);
    if (!row) continue;
    const storage = openSavedStorage(ctx, row);
    try {
      await removeBackupFolder(storage, copy.backup_path!);
      if (jobId) {
        const aborted = await storage.abortUnfinishedUploads(`${jobId}/`);
        if (aborted) log.info(`aborted ${aborted} unfinished upload(s) of job ${jobId} on ${row.name}`);
      }
      await copies.update(
        { execution_id: executionId, storage_location_id: row.id },
        { status: 'failed', backup_path: null, error_message: 'Interrupted; its partial files were removed' },
      );
    } catch (e) {
      log.warn(`could not remove the partial files of execution ${executionId} on ${row.name}: ${(e as Error).message}`);
    } finally {
      await storage.close().catch(() => undefined);
    }
  }
}
