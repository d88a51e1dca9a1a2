import { AppError } from '../../../shared/errors.js';
import { holdings } from '../../../shared/words.js';
import type { RestoreMetadata } from '../../../shared/schemas/execution.js';
import { backupOptions as backupOptionsSchema } from '../../../shared/schemas/job.js';
import { datasourceConfig } from '../catalog/datasources.js';
import { BackupJobs, Datasources, type ExecutionRow } from '../db/entities.js';
import { metadataOf } from '../db/metadata.js';
import { backupEngineFor } from '../engines/index.js';
import type { CoreContext } from '../kernel/context.js';
import { readSettings, toolDirs } from '../kernel/settings.js';
import { fetchVerified, type FetchedBackup } from './fetch.js';
import { fetchChosen } from './take-out.js';
import type { NewExecution } from './queue.js';
import { restoreCompleted, restoreFailed } from '../notify/messages.js';
import { failureOf } from './report.js';
import type { RunKeys } from './run-keys.js';
import type { Work } from './runner.js';

/** Runs a backup as its own execution inside this one, and answers its row as it ended. */
export type RunInside = (signal: AbortSignal, values: NewExecution) => Promise<ExecutionRow>;

/**
 * A restore: fetch and verify the backup (nothing is touched until every checksum matches), take a
 * safety backup of the target when it will be overwritten, restore, then count what the target holds.
 */
export function restoreWork(ctx: CoreContext, runInside: RunInside, runKeys: RunKeys): Work {
  return async (row, { signal, report }) => {
    const { say, progress } = report;
    const request = metadataOf(row);
    if (request.operation !== 'restore') throw new Error(`execution ${row.id} is not a restore`);
    let fetched: FetchedBackup | undefined;
    let touched = false;
    let targetName = 'the target';
    let safetyId: string | null = null;
    try {
      if (!row.datasource_id) throw new AppError('not_found', 'The target datasource was deleted');
      const datasource = await ctx.db.getRepository(Datasources).findOneByOrFail({ id: row.datasource_id });
      const engine = backupEngineFor(datasource.type);
      const target = engine.target(datasourceConfig(ctx, datasource), datasource.name, request);
      targetName = target.description;
      const settings = await readSettings(ctx.db);
      const tempDir = await ctx.temp.dir(settings['system.temp_directory']);

      progress({ stage: 'download', bytes_raw: 0, bytes_stored: 0, total_raw_estimate: null }, true);
      const fetchOptions = { storageId: request.storage_location_id, tempDir, signal, say, progress, keys: runKeys.of(row.id) };
      fetched = request.paths
        ? await fetchChosen(ctx, request.source_execution_id, request.paths, fetchOptions)
        : await fetchVerified(ctx, request.source_execution_id, fetchOptions);
      const source = fetched.backup;

      if (request.safety_backup && target.replacesDatasource) {
        progress({ stage: 'safety_backup', bytes_raw: 0, bytes_stored: 0, total_raw_estimate: null }, true);
        safetyId = await safetyBackup(ctx, runInside, row, source.execution, datasource.id, signal);
        say('info', `Safety backup of ${datasource.name} completed`);
      } else if (target.replacesDatasource) {
        say('warn', 'No safety backup: the current data of the target is overwritten without a copy');
      }

      progress({ stage: 'restore', bytes_raw: 0, bytes_stored: 0, total_raw_estimate: null }, true);
      say('info', `Restoring into ${target.description}${target.createDatabase ? ' (a new database)' : ''}`);
      // A restore of chosen tables checks their names (and builds its SQL) first, and says when it starts writing.
      touched = !request.tables;
      const restoreOptions = {
        parallelJobs: await jobParallelism(ctx, source.execution.job_id),
        toolDirs: toolDirs(settings),
        tempDir,
        signal,
        log: say,
        createDatabase: target.createDatabase,
        overwrite: request.overwrite,
        source: source.metadata,
        touching: () => void (touched = true),
      };
      const result =
        request.tables && engine.restoreTables
          ? await engine.restoreTables(target.config, await fetched.source.file(), request.tables, restoreOptions)
          : await engine.restore(target.config, fetched.source, restoreOptions);
      if (result.previous_file) say('info', `The previous file is kept as ${result.previous_file}`);

      progress({ stage: 'check', bytes_raw: 0, bytes_stored: 0, total_raw_estimate: null }, true);
      // The server's estimates: counting every row would read the whole database a second time (a restore test counts exactly).
      const summary = await engine.summarize(target.config, { signal, estimate: true });
      say(
        'info',
        `${target.description.charAt(0).toUpperCase()}${target.description.slice(1)} now holds ${holdings(datasource.type, summary)}${summary.estimated ? " (the server's estimate)" : ''}`,
      );

      const metadata: RestoreMetadata = {
        ...request,
        datasource_name: datasource.name,
        datasource_type: datasource.type,
        job_name: source.metadata.job_name ?? null,
        target: target.description,
        target_touched: true,
        restored_from: fetched.copy,
        safety_execution_id: safetyId,
        tables_restored: summary.tables,
        rows_restored: summary.rows,
        previous_file: result.previous_file ?? null,
        ...(result.left_out ? { left_out: result.left_out } : {}),
        engine_output: result.engine_output.slice(-20_000),
      };
      return {
        status: 'completed',
        columns: {
          storage_location_id: fetched.copy.storage_location_id,
          size_bytes: source.execution.size_bytes,
          compressed_size_bytes: source.execution.compressed_size_bytes,
          files_count: result.files_count ?? null,
        },
        metadata,
        notification: restoreCompleted({
          datasourceId: datasource.id,
          datasourceName: datasource.name,
          datasourceType: datasource.type,
          target: target.description,
          backupTakenAt: source.execution.created_at,
          executionId: row.id,
          sourceExecutionId: request.source_execution_id,
          summary,
        }),
      };
    } catch (e) {
      const { status, message: cause, stack, engineOutput } = failureOf(e, signal);
      const state = touched
        ? `${targetName} may be partly restored${safetyId ? '; the safety backup taken just before (in Activity) holds its previous state' : ''}`
        : `${targetName} was not touched`;
      const message = `${cause.replace(/\.+$/, '')}. ${state.charAt(0).toUpperCase()}${state.slice(1)}.`;
      say(status === 'cancelled' ? 'warn' : 'error', message);
      return {
        status,
        message,
        stack,
        metadata: { ...request, target: targetName, target_touched: touched, safety_execution_id: safetyId, engine_output: engineOutput },
        notification:
          status === 'cancelled' ? null : restoreFailed({ datasourceId: row.datasource_id, executionId: row.id, target: targetName, message, touched }),
      };
    } finally {
      runKeys.drop(row.id);
      await fetched?.cleanup();
    }
  };
}

/** pg_restore -j as the backup's job says; 1 (one transaction) when the job is gone. */
async function jobParallelism(ctx: CoreContext, jobId: string | null): Promise<number> {
  const job = jobId ? await ctx.db.getRepository(BackupJobs).findOneBy({ id: jobId }) : null;
  return job ? backupOptionsSchema.parse(job.backup_options).parallel_jobs : 1;
}

/**
 * A backup of the restore's target, with the settings of the backup's job (or else the target's own
 * first job): an execution of its own, shown in Activity and cancellable, run inside the restore,
 * which already holds the target.
 */
export async function safetyBackup(
  ctx: CoreContext,
  runInside: RunInside,
  restore: ExecutionRow,
  source: ExecutionRow,
  targetId: string,
  signal: AbortSignal,
  /** A whole server: only the databases the restore replaces. */
  onlyDatabases?: string[],
): Promise<string> {
  const jobs = ctx.db.getRepository(BackupJobs);
  const job =
    (source.job_id ? await jobs.findOneBy({ id: source.job_id }) : null) ??
    (await jobs.findOne({ where: { datasource_id: targetId }, order: { created_at: 'ASC' } }));
  if (!job) {
    throw new AppError(
      'validation_error',
      'A safety backup needs a backup job for this datasource (it says where to keep the copy): create one, or restore without a safety backup',
    );
  }
  const done = await runInside(signal, {
    job_id: job.id,
    datasource_id: targetId,
    storage_location_id: job.storage_location_id,
    metadata: { operation: 'backup', safety_for: restore.id, execution_logs: [], ...(onlyDatabases ? { only_databases: onlyDatabases } : {}) },
  });
  if (done.status === 'cancelled') throw new AppError('cancelled', 'The safety backup was cancelled');
  if (done.status !== 'completed' && done.status !== 'partial')
    throw new AppError('validation_error', `The safety backup did not complete (${done.error_message ?? done.status})`);
  return done.id;
}
