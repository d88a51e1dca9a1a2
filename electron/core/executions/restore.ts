import { AppError } from '../../../shared/errors.js';
import { restoreRequest } from '../../../shared/schemas/restore.js';
import { backupOptions as backupOptionsSchema } from '../../../shared/schemas/job.js';
import type { RunExecution } from '../backup/queue.js';
import { createReporter, failureOf } from '../backup/report.js';
import { BackupExecutions, BackupJobs, Datasources, type ExecutionRow } from '../db/entities.js';
import { engineFor } from '../engines/index.js';
import { notify } from '../notify/inbox.js';
import type { ServiceContext } from '../services/context.js';
import { readSettings, toolDirs } from '../services/settings.js';
import { fetchVerified, type FetchedBackup } from './fetch.js';
import { resolveTarget } from './target.js';

/**
 * Runs one restore execution: fetch and verify the backup (nothing is touched until every checksum
 * matches), take a safety backup of the target when it will be overwritten, restore, then count what
 * the target holds. Never throws; the execution row and a notification say how it ended.
 */
export function createRestoreRunner(ctx: ServiceContext, runBackup: RunExecution): RunExecution {
  return async function runRestore(row, signal) {
    const startedAt = row.started_at ?? new Date();
    const { logs, say, progress, ended, announce } = createReporter(ctx, row, startedAt);
    const executions = ctx.db.getRepository(BackupExecutions);
    const request = restoreRequest.parse(row.metadata);
    let fetched: FetchedBackup | undefined;
    let touched = false;
    let targetName = 'the target';
    let safetyId: string | null = null;
    try {
      if (!row.datasource_id) throw new AppError('not_found', 'The target datasource was deleted');
      const datasource = await ctx.db.getRepository(Datasources).findOneByOrFail({ id: row.datasource_id });
      const target = resolveTarget(ctx.secrets, datasource, request);
      targetName = target.description;
      const engine = engineFor(datasource.type);
      const settings = await readSettings(ctx);
      const tempDir = settings['system.temp_directory'];

      progress({ stage: 'download', bytes_raw: 0, bytes_stored: 0, total_raw_estimate: null }, true);
      fetched = await fetchVerified(ctx, request.source_execution_id, { storageId: request.storage_location_id, tempDir, signal, say, progress });
      await executions.update(row.id, { storage_location_id: fetched.copy.storage_location_id });

      if (request.safety_backup && target.replacesDatasource) {
        progress({ stage: 'safety_backup', bytes_raw: 0, bytes_stored: 0, total_raw_estimate: null }, true);
        safetyId = await safetyBackup(ctx, runBackup, row, fetched.backup, datasource.id, signal);
        say('info', `Safety backup of ${datasource.name} completed (execution ${safetyId})`);
      } else if (target.replacesDatasource) {
        say('warn', 'No safety backup: the current data of the target is overwritten without a copy');
      }

      progress({ stage: 'restore', bytes_raw: 0, bytes_stored: 0, total_raw_estimate: null }, true);
      say('info', `Restoring into ${target.description}${target.createDatabase ? ' (a new database)' : ''}`);
      const parallel = fetched.backup.job_id ? await jobParallelism(ctx, fetched.backup.job_id) : 1;
      touched = true;
      const result = await engine.restore(target.config, fetched.rawPath, {
        parallelJobs: parallel,
        toolDirs: toolDirs(settings),
        tempDir,
        signal,
        log: say,
        createDatabase: target.createDatabase,
        overwrite: request.overwrite,
      });
      if (result.previous_file) say('info', `The previous file is kept as ${result.previous_file}`);

      progress({ stage: 'check', bytes_raw: 0, bytes_stored: 0, total_raw_estimate: null }, true);
      const summary = await engine.summarize(target.config, { signal });
      say('info', `The target now holds ${summary.tables} table(s) and ${summary.rows} row(s)`);

      await executions.update(row.id, {
        ...ended('completed'),
        size_bytes: fetched.backup.size_bytes,
        compressed_size_bytes: fetched.backup.compressed_size_bytes,
        files_count: result.files_count ?? null,
        metadata: {
          ...request,
          datasource_name: datasource.name,
          datasource_type: datasource.type,
          job_name: fetched.backup.metadata?.job_name ?? null,
          target: target.description,
          restored_from: fetched.copy,
          safety_execution_id: safetyId,
          tables_restored: summary.tables,
          rows_restored: summary.rows,
          previous_file: result.previous_file ?? null,
          engine_output: result.engine_output.slice(-20_000),
          execution_logs: logs,
        } as never,
      });
      announce('completed');
      await notify(ctx, {
        type: 'restore_completed',
        severity: 'info',
        entity_type: 'datasource',
        entity_id: datasource.id,
        title: `Restore of ${datasource.name} completed`,
        message: `${target.description} now holds the backup of ${fetched.backup.created_at.toISOString()} (${summary.tables} tables, ${summary.rows} rows).`,
        metadata: { execution_id: row.id, source_execution_id: request.source_execution_id },
      });
    } catch (e) {
      const { status, message: cause, stack, engineOutput } = failureOf(e, signal);
      const cancelled = status === 'cancelled';
      const state = touched ? `${targetName} may be partly restored${safetyId ? `; the safety backup ${safetyId} holds its previous state` : ''}` : `${targetName} was not touched`;
      const message = `${cause.replace(/\.+$/, '')}. ${state.charAt(0).toUpperCase()}${state.slice(1)}.`;
      say(cancelled ? 'warn' : 'error', message);
      await executions.update(row.id, {
        ...ended(status),
        error_message: message,
        error_stack: stack,
        metadata: { ...request, target: targetName, target_touched: touched, safety_execution_id: safetyId, execution_logs: logs, engine_output: engineOutput } as never,
      });
      announce(status, message);
      if (!cancelled) {
        await notify(ctx, {
          type: 'backup_failed',
          severity: 'critical',
          entity_type: 'datasource',
          entity_id: row.datasource_id ?? row.id,
          title: `Restore into ${targetName} failed`,
          message,
          metadata: { execution_id: row.id, operation: 'restore', target_touched: touched },
        }).catch(() => undefined);
      }
    } finally {
      await fetched?.cleanup();
    }
  };
}

async function jobParallelism(ctx: ServiceContext, jobId: string): Promise<number> {
  const job = await ctx.db.getRepository(BackupJobs).findOneBy({ id: jobId });
  return job ? backupOptionsSchema.parse(job.backup_options).parallel_jobs : 1;
}

/**
 * A backup of the restore's target, with the settings of the backup's job (or else the target's own
 * first job), run here rather than queued: the restore already holds the target.
 */
async function safetyBackup(ctx: ServiceContext, runBackup: RunExecution, restore: ExecutionRow, source: ExecutionRow, targetId: string, signal: AbortSignal): Promise<string> {
  const jobs = ctx.db.getRepository(BackupJobs);
  const job = (source.job_id ? await jobs.findOneBy({ id: source.job_id }) : null) ?? (await jobs.findOne({ where: { datasource_id: targetId }, order: { created_at: 'ASC' } }));
  if (!job) {
    throw new AppError('validation_error', 'A safety backup needs a backup job for this datasource (it says where to keep the copy): create one, or restore without a safety backup');
  }
  const repo = ctx.db.getRepository(BackupExecutions);
  const row = await repo.save(
    repo.create({
      job_id: job.id,
      datasource_id: targetId,
      storage_location_id: job.storage_location_id,
      status: 'running',
      started_at: new Date(),
      backup_type: 'full',
      metadata: { operation: 'backup', safety_for: restore.id, execution_logs: [] },
    }),
  );
  ctx.events.emit('execution.status', { execution_id: row.id, job_id: row.job_id, status: 'running', error_message: null });
  await runBackup(row, signal);
  const done = await repo.findOneByOrFail({ id: row.id });
  if (done.status !== 'completed') throw new AppError('conflict', `The safety backup did not complete (${done.error_message ?? done.status})`);
  return row.id;
}
