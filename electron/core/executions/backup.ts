import { Readable } from 'node:stream';
import { In } from 'typeorm';
import { AppError } from '../../../shared/errors.js';
import { backupOptions as backupOptionsSchema, type BackupOptions } from '../../../shared/schemas/job.js';
import {
  BackupChunks,
  BackupCopies,
  BackupExecutions,
  BackupJobs,
  BackupJobStorages,
  Datasources,
  StorageLocations,
  type CopyRow,
  type ExecutionRow,
  type StorageRow,
} from '../db/entities.js';
import { engineFor, type SourceInfo } from '../engines/index.js';
import { scoped } from '../log.js';
import { notify } from '../notify/inbox.js';
import type { ServiceContext } from '../services/context.js';
import { readSettings, toolDirs } from '../services/settings.js';
import { openSavedStorage } from '../services/storages.js';
import type { Storage } from '../storage/types.js';
import { artifactBaseName, executionFolder } from './layout.js';
import { buildManifest } from './manifest.js';
import { createReporter, failureOf } from './report.js';
import { requestVerify } from '../restore/requests.js';
import { StorageWriteError, writeArtifact, type WrittenArtifact } from './pipeline.js';

/** What a finished copy on the first storage looked like; the other copies replicate it. */
interface PrimaryCopy {
  storage: StorageRow;
  written: WrittenArtifact;
  manifest: string;
}

const log = scoped('backup');

/** Runs one claimed execution to its end: completed, failed or cancelled. Never throws. */
export function createBackupRunner(ctx: ServiceContext) {
  return async function runBackup(row: ExecutionRow, signal: AbortSignal): Promise<void> {
    const startedAt = row.started_at ?? new Date();
    const { logs, say, progress, ended, announce } = createReporter(ctx, row, startedAt);
    const executions = ctx.db.getRepository(BackupExecutions);
    const copies = ctx.db.getRepository(BackupCopies);
    const setCopy = (storageId: string, patch: Partial<CopyRow>) =>
      copies.update({ execution_id: row.id, storage_location_id: storageId }, patch);

    try {
      if (!row.job_id) throw new AppError('not_found', 'The job of this backup was deleted');
      const job = await ctx.db.getRepository(BackupJobs).findOneByOrFail({ id: row.job_id });
      // Usually the job's own datasource; a safety backup before a restore runs the job's settings against the restore's target.
      const datasource = await ctx.db.getRepository(Datasources).findOneByOrFail({ id: row.datasource_id ?? job.datasource_id });
      const links = await ctx.db.getRepository(BackupJobStorages).find({ where: { job_id: job.id }, order: { position: 'ASC' } });
      const storageRows = await ctx.db.getRepository(StorageLocations).findBy({ id: In(links.map((l) => l.storage_location_id)) });
      const storages = links.map((l) => storageRows.find((s) => s.id === l.storage_location_id)).filter((s): s is StorageRow => Boolean(s));
      if (storages.length === 0) throw new AppError('validation_error', 'This job has no storage: edit the job and choose where to keep its backups');
      const options: BackupOptions = backupOptionsSchema.parse(job.backup_options);
      const engine = engineFor(datasource.type);
      const settings = await readSettings(ctx);
      const config = ctx.secrets.openConfig(datasource.connection_config);
      const engineOptions = {
        includeTables: options.include_tables,
        excludeTables: options.exclude_tables,
        parallelJobs: options.parallel_jobs,
        // The pipeline compresses, so the engine must not compress again.
        compressedByPipeline: options.compression !== 'none',
        toolDirs: toolDirs(settings),
        tempDir: settings['system.temp_directory'],
        signal,
        log: say,
      };

      say('info', `Backing up ${datasource.name} (${datasource.type}) with ${options.compression} compression`);
      progress({ stage: 'connecting', bytes_raw: 0, bytes_stored: 0, total_raw_estimate: null }, true);
      const source: SourceInfo = await engine.inspect(config as never, engineOptions);
      if (source.database_version) say('info', `Server: ${source.database_version}`);

      let folder = `${job.id}/${executionFolder(startedAt)}`;
      const artifact = artifactBaseName(datasource.type, options.compression);
      await copies.insert(storages.map((s) => ({ execution_id: row.id, storage_location_id: s.id, status: 'pending' as const })));

      let primary: PrimaryCopy | undefined;
      let engineOutput = '';
      let filesCount: number | null = null;
      const failed: string[] = [];

      for (const target of storages) {
        signal.throwIfAborted();
        const storage = openSavedStorage(ctx, target);
        try {
          folder = await unusedFolder(storage, folder);
          const dump = await engine.dump(config as never, engineOptions);
          const written = await writeArtifact({
            source: dump.stream,
            finished: dump.finished,
            compression: options.compression,
            level: options.compression_level,
            maxPartBytes: options.max_file_size_mb ? options.max_file_size_mb * 1024 * 1024 : undefined,
            baseName: artifact,
            put: (name, body) => storage.put(`${folder}/${name}`, body, { signal }),
            signal,
            onBytes: (raw, stored) => progress({ stage: 'dump', bytes_raw: raw, bytes_stored: stored, total_raw_estimate: source.size_estimate_bytes ?? null }),
          });
          const result = await dump.finished;
          engineOutput = result.engine_output;
          filesCount = result.files_count ?? null;
          if (result.skipped_files) say('warn', `${result.skipped_files} file(s) vanished or could not be read during the backup and were skipped (see the engine output)`);
          progress({ stage: 'finishing', bytes_raw: written.raw.bytes, bytes_stored: written.stored.bytes, total_raw_estimate: null }, true);
          // Written last: a folder without manifest.json is not a backup.
          const manifest = JSON.stringify(
            buildManifest({
              executionId: row.id,
              job: { id: job.id, name: job.name },
              datasource: { id: datasource.id, name: datasource.name, type: datasource.type },
              createdAt: startedAt,
              compression: options.compression,
              artifact,
              written,
              metadata: { ...source, files_count: filesCount ?? undefined },
            }),
            null,
            2,
          );
          await storage.put(`${folder}/manifest.json`, Readable.from([manifest]), { signal });
          await setCopy(target.id, { status: 'completed', backup_path: folder });
          say('info', `Stored on ${target.name}: ${written.parts.length} file(s), ${written.stored.bytes} bytes`);
          primary = { storage: target, written, manifest };
          break;
        } catch (e) {
          await removeFolder(storage, folder);
          if (!(e instanceof StorageWriteError) || signal.aborted) throw e;
          const reason = e.message;
          failed.push(`${target.name}: ${reason}`);
          await setCopy(target.id, { status: 'failed', error_message: reason });
          say('warn', `Could not write to ${target.name} (${reason}); trying the next storage`);
        } finally {
          await storage.close().catch(() => undefined);
        }
      }
      if (!primary) throw new AppError('connection_failed', `No storage accepted the backup: ${failed.join('; ')}`);

      const rest = storages.slice(storages.indexOf(primary.storage) + 1);
      if (job.storage_strategy === 'replicate') {
        for (const target of rest) {
          signal.throwIfAborted();
          progress({ stage: 'replicate', bytes_raw: primary.written.raw.bytes, bytes_stored: primary.written.stored.bytes, total_raw_estimate: null }, true);
          const error = await replicate(ctx, primary, target, folder, signal);
          if (error) {
            failed.push(`${target.name}: ${error}`);
            await setCopy(target.id, { status: 'failed', error_message: error });
            say('warn', `Copy to ${target.name} failed: ${error}`);
          } else {
            await setCopy(target.id, { status: 'completed', backup_path: folder });
            say('info', `Copied to ${target.name}`);
          }
        }
      } else {
        for (const target of rest) await setCopy(target.id, { status: 'skipped', error_message: `Not needed: fallback wrote to ${primary.storage.name}` });
      }

      const { written } = primary;
      const end = ended('completed');
      await ctx.db.transaction(async (m) => {
        await m.getRepository(BackupChunks).insert(
          written.parts.map((p) => ({ execution_id: row.id, chunk_number: p.number, file_path: `${folder}/${p.file}`, size_bytes: String(p.size), checksum: p.sha256 })),
        );
        await m.getRepository(BackupExecutions).update(row.id, {
          ...end,
          size_bytes: String(written.raw.bytes),
          compressed_size_bytes: String(written.stored.bytes),
          backup_path: folder,
          files_count: filesCount,
          error_message: failed.length ? `Completed with failed copies: ${failed.join('; ')}` : null,
          // TypeORM's typing of a JSONB partial refuses nulls inside it.
          metadata: {
            ...(row.metadata ?? {}),
            operation: 'backup',
            // Names as they were, so the history still reads after a job or datasource is deleted.
            job_name: job.name,
            datasource_name: datasource.name,
            datasource_type: datasource.type,
            artifact,
            compression: options.compression,
            compression_level: options.compression_level ?? null,
            database_version: source.database_version,
            tables_backed_up: source.tables_backed_up,
            rows_approximate: source.rows_approximate,
            compression_ratio: written.raw.bytes > 0 ? Number((written.stored.bytes / written.raw.bytes).toFixed(4)) : null,
            checksum: `sha256:${written.stored.sha256}`,
            engine_output: engineOutput.slice(-20_000),
            warnings: failed,
            execution_logs: logs,
          } as never,
        });
        await m.getRepository(BackupJobs).update(job.id, { last_execution_at: end.finished_at });
      });
      announce('completed');
      await notify(ctx, {
        type: 'backup_success',
        severity: failed.length ? 'warning' : 'info',
        entity_type: 'backup_job',
        entity_id: job.id,
        title: failed.length ? `Backup of ${datasource.name} completed with failed copies` : `Backup of ${datasource.name} completed`,
        message: failed.length
          ? `Stored on ${primary.storage.name}; these copies failed: ${failed.join('; ')}`
          : `${written.parts.length} file(s), ${written.stored.bytes} bytes on ${storages.filter((s) => s === primary!.storage || job.storage_strategy === 'replicate').length} storage(s).`,
        metadata: { execution_id: row.id },
      });
      if (options.verify_after_backup !== 'none') {
        await requestVerify(ctx, row.id, options.verify_after_backup).catch((e: Error) => log.warn(`[${row.id}] verification not queued: ${e.message}`));
      }
    } catch (e) {
      const { status, message, stack, engineOutput } = failureOf(e, signal);
      const cancelled = status === 'cancelled';
      say(cancelled ? 'warn' : 'error', cancelled ? `Cancelled: ${message}. Partial files were removed.` : `Failed: ${message}`);
      await copies.update({ execution_id: row.id, status: 'pending' }, { status: 'skipped', error_message: cancelled ? 'Cancelled' : 'The backup failed before this copy' });
      await executions.update(row.id, {
        ...ended(status),
        error_message: message,
        error_stack: stack,
        metadata: { ...(row.metadata ?? {}), operation: 'backup', execution_logs: logs, engine_output: engineOutput },
      });
      announce(status, message);
      if (!cancelled) {
        const job = row.job_id ? await ctx.db.getRepository(BackupJobs).findOneBy({ id: row.job_id }) : null;
        await notify(ctx, {
          type: 'backup_failed',
          severity: 'critical',
          entity_type: 'backup_job',
          entity_id: row.job_id ?? row.id,
          title: `Backup ${job ? `"${job.name}" ` : ''}failed`,
          message,
          metadata: { execution_id: row.id },
        }).catch(() => undefined);
      }
    }
  };
}

/**
 * Two backups of one job can start within the same second (a safety backup just after a backup):
 * the later one gets `-2`, `-3`… rather than colliding, since a backup is never overwritten.
 */
async function unusedFolder(storage: Storage, folder: string): Promise<string> {
  const base = folder.replace(/-\d+$/, '');
  let candidate = folder;
  for (let n = 2; (await storage.list(`${candidate}/`)).length > 0; n++) candidate = `${base}-${n}`;
  return candidate;
}

/** Nothing of a failed or cancelled attempt may stay on a storage. */
async function removeFolder(storage: Storage, folder: string): Promise<void> {
  try {
    for (const object of await storage.list(`${folder}/`)) await storage.delete(object.key);
  } catch (e) {
    log.warn(`could not remove the partial files in ${folder}`, e);
  }
}

/** Copies the primary's files to another storage (each part checked on the way), manifest last. */
async function replicate(ctx: ServiceContext, primary: PrimaryCopy, target: StorageRow, folder: string, signal: AbortSignal): Promise<string | null> {
  const from = openSavedStorage(ctx, primary.storage);
  const to = openSavedStorage(ctx, target);
  try {
    for (const part of primary.written.parts) {
      await to.put(`${folder}/${part.file}`, await from.get(`${folder}/${part.file}`, { signal }), { signal, sizeHint: part.size });
    }
    await to.put(`${folder}/manifest.json`, Readable.from([primary.manifest]), { signal });
    return null;
  } catch (e) {
    await removeFolder(to, folder);
    if (signal.aborted) throw e;
    return (e as Error).message;
  } finally {
    await Promise.all([from.close(), to.close()].map((p) => p.catch(() => undefined)));
  }
}
