import { Readable } from 'node:stream';
import type { EntityManager } from 'typeorm';
import { In } from 'typeorm';
import { AppError } from '../../../shared/errors.js';
import { bytes, counted } from '../../../shared/format.js';
import type { RecordedContent } from '../../../shared/schemas/drill.js';
import type { BackupEncryption } from '../../../shared/schemas/encryption.js';
import type { BackupMetadata } from '../../../shared/schemas/execution.js';
import { backupOptions as backupOptionsSchema } from '../../../shared/schemas/job.js';
import type { VerifyMethod } from '../../../shared/schemas/restore.js';
import { artifactBaseName, executionFolder } from '../backup/layout.js';
import { buildManifest } from '../backup/manifest.js';
import { readableContent } from '../backup/recorded.js';
import { jobReadme } from '../backup/readme.js';
import { StorageWriteError, writeArtifact } from '../backup/pipeline.js';
import { datasourceConfig } from '../catalog/datasources.js';
import { appIdentities, backupEncryptionFor } from '../catalog/keys.js';
import { removeBackupFolder } from '../catalog/remove.js';
import { isWholeServer } from '../catalog/server-databases.js';
import { openSavedStorage } from '../catalog/storages.js';
import {
  BackupChunks,
  BackupCopies,
  BackupJobs,
  BackupJobStorages,
  Datasources,
  StorageLocations,
  type CopyRow,
  type ExecutionRow,
  type JobRow,
  type StorageRow,
} from '../db/entities.js';
import { metadataOf } from '../db/metadata.js';
import { backupEngineFor, type EngineOptions } from '../engines/index.js';
import { fingerprint } from '../kernel/age.js';
import type { CoreContext } from '../kernel/context.js';
import { scoped } from '../kernel/log.js';
import { readSettings, toolDirs } from '../kernel/settings.js';
import type { Storage } from '../storage/types.js';
import { backupCompleted, backupFailed, serverBackupEnded } from '../notify/messages.js';
import { backupContents } from './contents.js';
import { failureOf, type Reporter } from './report.js';
import { pipelineOptions, putManifest, type BackupRun, type CopyWriter, type WrittenCopy } from './backup-run.js';
import { serverCopyWriter } from './server-backup.js';
import type { Ending, Work } from './runner.js';

const log = scoped('backup');

/** What a finished copy on the first storage looked like; the other copies replicate it. */
interface PrimaryCopy {
  storage: StorageRow;
  /** The same folder name on every storage. */
  folder: string;
  written: WrittenCopy;
}

/** What follows a completed backup, queued once it is recorded. */
export interface BackupFollowUps {
  /** The verification the job asks for. */
  verify: (backupId: string, method: VerifyMethod) => Promise<unknown>;
  /** Retention of the job, now that it has one more backup. */
  cleanup: (jobId: string) => Promise<unknown>;
}

/**
 * A backup: dump → pipeline → the job's storages (fallback: the first that accepts; replicate: all),
 * manifest.json last. Once recorded, the job's verification and retention follow. A datasource that is a
 * whole server writes one artifact per database and the globals (executions/server-backup.ts).
 */
export function backupWork(ctx: CoreContext, followUps: BackupFollowUps): Work {
  return async (row, { signal, report }) => {
    const request = metadataOf(row);
    if (request.operation !== 'backup') throw new Error(`execution ${row.id} is not a backup`);
    let job: JobRow | null = null;
    try {
      const run = await prepareRun(ctx, row, request, signal, report);
      job = run.job;
      const writer = isWholeServer(run.datasource.type, run.config) ? serverCopyWriter(ctx, run) : databaseCopyWriter(run);
      const { primary, failedCopies } = await storeOnFirstStorage(ctx, run, writer);
      const { storedOn, failed } = await replicateToOthers(ctx, run, primary);
      await writeReadmes(ctx, run, primary, storedOn);
      return backupEnded(ctx, run, primary, storedOn, [...failedCopies, ...failed], followUps);
    } catch (e) {
      return failedBackup(e, signal, report.say, request, job?.name ?? null, row.id, job ? row.job_id : null, ctx.clock.now());
    }
  };
}

/** Reads the job, its datasource (a safety backup's is the restore's target) and storages, and opens the keys. */
async function prepareRun(ctx: CoreContext, row: ExecutionRow, request: BackupMetadata, signal: AbortSignal, report: Reporter): Promise<BackupRun> {
  const { say, progress } = report;
  // Everything the run needs from the catalog, asked at once: each is an independent query.
  const [job, links, settings] = await Promise.all([
    row.job_id ? ctx.db.getRepository(BackupJobs).findOneBy({ id: row.job_id }) : null,
    row.job_id ? ctx.db.getRepository(BackupJobStorages).find({ where: { job_id: row.job_id }, order: { position: 'ASC' } }) : [],
    readSettings(ctx.db),
  ]);
  if (!job) throw new AppError('not_found', 'The job of this backup was deleted');
  // Usually the job's own datasource; a safety backup before a restore runs the job's settings against the restore's target.
  const [datasource, storageRows] = await Promise.all([
    ctx.db.getRepository(Datasources).findOneByOrFail({ id: row.datasource_id ?? job.datasource_id }),
    ctx.db.getRepository(StorageLocations).findBy({ id: In(links.map((l) => l.storage_location_id)) }),
  ]);
  const storages = links.map((l) => storageRows.find((s) => s.id === l.storage_location_id)).filter((s): s is StorageRow => Boolean(s));
  if (storages.length === 0) throw new AppError('validation_error', 'This job has no storage: edit the job and choose where to keep its backups');
  const options = backupOptionsSchema.parse(job.backup_options);
  const engineOptions: EngineOptions = {
    includeTables: options.include_tables,
    excludeTables: options.exclude_tables,
    parallelJobs: options.parallel_jobs,
    // The pipeline compresses, so the engine must not compress again.
    compressedByPipeline: options.compression !== 'none',
    toolDirs: toolDirs(settings),
    tempDir: await ctx.temp.dir(settings['system.temp_directory']),
    signal,
    log: say,
  };
  const encryption = options.encryption === 'age' ? await backupEncryptionFor(ctx) : undefined;
  say('info', `Backing up ${datasource.name} (${datasource.type}) with ${options.compression} compression`);
  if (encryption) say('info', `Encrypted with age to ${encryption.recipients.map(fingerprint).join(', ')}`);
  progress({ stage: 'connecting', bytes_raw: 0, bytes_stored: 0, total_raw_estimate: null }, true);
  return {
    row,
    request,
    startedAt: row.started_at ?? ctx.clock.now(),
    job,
    datasource,
    storages,
    options,
    engine: backupEngineFor(datasource.type),
    config: datasourceConfig(ctx, datasource),
    engineOptions,
    encryption,
    signal,
    say,
    progress,
  };
}

/** One database, folder or file: one artifact (`backup.dump.zst`), its parts, manifest.json last. */
function databaseCopyWriter(run: BackupRun): CopyWriter {
  const { engine, config, engineOptions, options, encryption, signal, say, progress, job, datasource } = run;
  // The source is inspected beside the dump, which starts at once: a folder's walk for its size took as long as a
  // third of its backup. The progress bar gets the estimate when the inspection ends.
  let sizeEstimate: number | null = null;
  const inspected = engine.inspect(config, engineOptions).then((inspection) => {
    if (inspection.database_version) say('info', `Server: ${inspection.database_version}`);
    sizeEstimate = inspection.size_estimate_bytes ?? null;
    return inspection;
  });
  // Read where the dump ends; a failure is thrown there.
  inspected.catch(() => undefined);
  const artifact = artifactBaseName(engine.formatOf?.(engineOptions) ?? engine.format, options.compression, Boolean(encryption));

  return async (storage, folder) => {
    const { written, result, source, toc } = await inspectedFirst(inspected, signal, async () => {
      const dump = await engine.dump(config, engineOptions);
      // The inspection failing (a folder gone, a server refusing) stops the dump: nothing of it is kept.
      inspected.catch((e: unknown) => dump.stream.destroy(e as Error));
      const contents = backupContents(engine, config, engineOptions);
      const written = await writeArtifact({
        ...(await pipelineOptions(run, storage, folder)),
        source: dump.stream,
        finished: dump.finished,
        baseName: artifact,
        onBytes: (raw, stored) => progress({ stage: 'dump', bytes_raw: raw, bytes_stored: stored, total_raw_estimate: sizeEstimate }),
        onSourceData: contents?.onSourceData,
        onFrame: contents?.onFrame,
      });
      const result = await dump.finished;
      const { size_estimate_bytes: _estimate, ...source } = await inspected;
      const toc = await contents?.store(written, {
        compressed: options.compression !== 'none',
        recipients: encryption?.recipients ?? null,
        put: (name, body) => storage.put(`${folder}/${name}`, body, { signal }),
        say,
      });
      return { written, result, source, toc };
    });
    const filesCount = result.files_count ?? null;
    const recorded: RecordedContent = result.recorded ?? {};
    if (result.skipped_files)
      say(
        'warn',
        `${counted(result.skipped_files, 'file')} vanished or could not be read during the backup and ${result.skipped_files === 1 ? 'was' : 'were'} skipped (see the engine output)`,
      );
    progress({ stage: 'finishing', bytes_raw: written.raw.bytes, bytes_stored: written.stored.bytes, total_raw_estimate: null }, true);
    const manifest = buildManifest({
      executionId: run.row.id,
      job: { id: job.id, name: job.name },
      datasource: { id: datasource.id, name: datasource.name, type: datasource.type },
      createdAt: run.startedAt,
      compression: options.compression,
      encryption,
      artifact,
      written,
      metadata: readableContent({ ...source, files_count: filesCount ?? undefined, ...recorded }, Boolean(encryption)),
      toc,
    });
    return {
      parts: written.parts,
      rawBytes: written.raw.bytes,
      storedBytes: written.stored.bytes,
      artifact,
      checksum: `sha256:${written.stored.sha256}`,
      manifest: await putManifest(storage, folder, manifest, signal),
      source: { ...source, ...recorded },
      toc,
      filesCount,
      engineOutput: result.engine_output,
      partial: [],
    };
  };
}

/** Tries the job's storages in order until one takes a whole copy; a storage that refuses is named and the next tried. */
async function storeOnFirstStorage(ctx: CoreContext, run: BackupRun, write: CopyWriter): Promise<{ primary: PrimaryCopy; failedCopies: string[] }> {
  const { row, job, storages, signal, say } = run;
  const copies = ctx.db.getRepository(BackupCopies);
  let folder = `${job.id}/${executionFolder(run.startedAt)}`;
  await copies.insert(storages.map((s) => ({ execution_id: row.id, storage_location_id: s.id, status: 'pending' as const })));
  const failed: string[] = [];
  for (const target of storages) {
    signal.throwIfAborted();
    const storage = openSavedStorage(ctx, target);
    try {
      folder = await unusedFolder(storage, folder);
      // Recorded before the first byte: after a crash, recovery removes what is in this folder.
      await setCopy(ctx, row.id, target.id, { backup_path: folder });
      const written = await write(storage, folder);
      await setCopy(ctx, row.id, target.id, { status: 'completed', backup_path: folder });
      say('info', `Stored on ${target.name}: ${bytes(written.storedBytes)} in ${counted(written.parts.length, 'file')}`);
      return { primary: { storage: target, folder, written }, failedCopies: failed };
    } catch (e) {
      await removeFolder(storage, folder);
      if (!(e instanceof StorageWriteError) || signal.aborted) throw e;
      const reason = e.message;
      failed.push(`${target.name}: ${reason}`);
      await setCopy(ctx, row.id, target.id, { status: 'failed', backup_path: null, error_message: reason });
      say('warn', `Could not write to ${target.name} (${reason}); trying the next storage`);
    } finally {
      await storage.close().catch(() => undefined);
    }
  }
  throw new AppError('connection_failed', `No storage accepted the backup: ${failed.join('; ')}`);
}

const setCopy = (ctx: CoreContext, executionId: string, storageId: string, patch: Partial<CopyRow>) =>
  ctx.db.getRepository(BackupCopies).update({ execution_id: executionId, storage_location_id: storageId }, patch);

/** replicate: the primary's files copied to every other storage; fallback: the others are not needed. */
async function replicateToOthers(ctx: CoreContext, run: BackupRun, primary: PrimaryCopy): Promise<{ storedOn: StorageRow[]; failed: string[] }> {
  const { row, job, storages, signal, say, progress } = run;
  const { folder } = primary;
  const rest = storages.slice(storages.indexOf(primary.storage) + 1);
  const storedOn: StorageRow[] = [primary.storage];
  const failed: string[] = [];
  if (job.storage_strategy !== 'replicate') {
    for (const target of rest)
      await setCopy(ctx, row.id, target.id, { status: 'skipped', error_message: `Not needed: fallback wrote to ${primary.storage.name}` });
    return { storedOn, failed };
  }
  for (const target of rest) {
    signal.throwIfAborted();
    progress({ stage: 'replicate', bytes_raw: primary.written.rawBytes, bytes_stored: primary.written.storedBytes, total_raw_estimate: null }, true);
    await setCopy(ctx, row.id, target.id, { backup_path: folder });
    const error = await replicate(ctx, primary, target, folder, signal);
    if (error) {
      failed.push(`${target.name}: ${error}`);
      await setCopy(ctx, row.id, target.id, { status: 'failed', backup_path: null, error_message: error });
      say('warn', `Copy to ${target.name} failed: ${error}`);
    } else {
      await setCopy(ctx, row.id, target.id, { status: 'completed', backup_path: folder });
      storedOn.push(target);
      say('info', `Copied to ${target.name}`);
    }
  }
  return { storedOn, failed };
}

/** The job folder's README.txt on each storage that holds the backup. */
async function writeReadmes(ctx: CoreContext, run: BackupRun, primary: PrimaryCopy, storedOn: StorageRow[]): Promise<void> {
  const readme = jobReadme({
    jobId: run.job.id,
    jobName: run.job.name,
    datasourceName: run.datasource.name,
    datasourceType: run.datasource.type,
    artifact: primary.written.artifact,
    compression: run.options.compression,
  });
  for (const target of storedOn) await writeReadme(ctx, target, `${run.job.id}/${README}`, readme, run.say);
}

/** How a backup that wrote its copies ends: the catalog's record, its parts, the notification, and what follows. */
function backupEnded(
  ctx: CoreContext,
  run: BackupRun,
  primary: PrimaryCopy,
  storedOn: StorageRow[],
  failedCopies: string[],
  { verify, cleanup }: BackupFollowUps,
): Ending {
  const { row, job, datasource, options, encryption, request } = run;
  const { written, folder } = primary;
  const metadata: BackupMetadata = {
    ...request,
    job_name: job.name,
    datasource_name: datasource.name,
    datasource_type: datasource.type,
    ...written.source,
    files_count: written.filesCount ?? undefined,
    artifact: written.artifact,
    compression: options.compression,
    compression_level: options.compression_level ?? null,
    compression_ratio: written.rawBytes > 0 ? Number((written.storedBytes / written.rawBytes).toFixed(4)) : null,
    checksum: written.checksum,
    ...(encryption ? { encryption } : {}),
    ...(written.server ? { server: written.server } : {}),
    ...(written.toc ? { toc: written.toc } : {}),
    engine_output: written.engineOutput.slice(-20_000),
    warnings: [...failedCopies, ...written.partial.map((name) => `Database ${name} was not backed up`)],
  };
  const problems = [
    ...(written.partial.length ? [`Not backed up: ${written.partial.join(', ')}`] : []),
    ...(failedCopies.length ? [`failed copies: ${failedCopies.join('; ')}`] : []),
  ];
  return {
    status: written.partial.length ? 'partial' : 'completed',
    message: problems.length ? `Completed with ${problems.join('; ')}` : null,
    columns: { size_bytes: String(written.rawBytes), compressed_size_bytes: String(written.storedBytes), backup_path: folder, files_count: written.filesCount },
    metadata,
    record: async (m: EntityManager) => {
      await m.getRepository(BackupChunks).insert(
        written.parts.map((p, i) => ({
          execution_id: row.id,
          chunk_number: i + 1,
          file_path: `${folder}/${p.file}`,
          size_bytes: String(p.size),
          checksum: p.sha256,
        })),
      );
      await m.getRepository(BackupJobs).update(job.id, { last_execution_at: ctx.clock.now() });
    },
    notification: written.server
      ? serverBackupEnded({
          jobId: job.id,
          executionId: row.id,
          datasourceName: datasource.name,
          server: written.server,
          storedBytes: written.storedBytes,
          storedOn: storedOn.map((s) => s.name),
          failedCopies,
        })
      : backupCompleted({
          jobId: job.id,
          executionId: row.id,
          datasourceName: datasource.name,
          parts: written.parts.length,
          storedBytes: written.storedBytes,
          storedOn: storedOn.map((s) => s.name),
          failedCopies,
        }),
    followUp: async () => {
      const method = await followingCheck(ctx, options.verify_after_backup, encryption);
      // Each is independent: a verification refused as busy must not skip the cleanup.
      const [verified, cleaned] = await Promise.allSettled([method ? verify(row.id, method) : undefined, cleanup(job.id)]);
      for (const r of [verified, cleaned]) if (r.status === 'rejected') log.warn(`[${row.id}] what follows it could not start: ${(r.reason as Error).message}`);
    },
  };
}

/** A failed or cancelled backup: nothing of it stays on a storage, its pending copies say why, and a failure is notified. */
function failedBackup(
  e: unknown,
  signal: AbortSignal,
  say: (level: 'warn' | 'error', m: string) => void,
  request: BackupMetadata,
  jobName: string | null,
  executionId: string,
  jobId: string | null,
  finishedAt: Date,
): Ending {
  const { status, message, stack, engineOutput } = failureOf(e, signal);
  const cancelled = status === 'cancelled';
  say(cancelled ? 'warn' : 'error', cancelled ? `Cancelled: ${message}. Partial files were removed.` : `Failed: ${message}`);
  return {
    status,
    message,
    stack,
    metadata: { ...request, engine_output: engineOutput },
    record: async (m) => {
      await m
        .getRepository(BackupCopies)
        .update(
          { execution_id: executionId, status: 'pending' },
          { status: 'skipped', error_message: cancelled ? 'Cancelled' : 'The backup failed before this copy' },
        );
      // A failed run is still the job's last run (a cancelled one never really ran).
      if (!cancelled && jobId) await m.getRepository(BackupJobs).update(jobId, { last_execution_at: finishedAt });
    },
    notification: cancelled ? null : backupFailed({ jobId, jobName, executionId, message }),
  };
}

/**
 * The check a job asks for after each backup. A restore test needs a key: an app in write-only mode has none
 * for its new backups, so it checks their checksums instead (a scheduled run cannot ask for the recovery key).
 */
async function followingCheck(ctx: CoreContext, asked: string, encryption: BackupEncryption | undefined): Promise<VerifyMethod | null> {
  if (asked === 'none') return null;
  if (asked !== 'restore-test' || !encryption) return asked as VerifyMethod;
  const own = await appIdentities(ctx);
  if (own.some((k) => encryption.recipients.includes(k.recipient))) return 'restore-test';
  log.info('write-only mode: the restore test after a backup checks its checksums instead (no key here opens it)');
  return 'checksum';
}

/**
 * Runs the dump beside the inspection. When both fail, the inspection's error is the one reported: "Folder not found: …"
 * or the server's refusal says more than the dump's broken stream. A cancel is reported at once, without waiting.
 */
export async function inspectedFirst<T>(inspected: Promise<unknown>, signal: AbortSignal, dump: () => Promise<T>): Promise<T> {
  try {
    return await dump();
  } catch (e) {
    if (signal.aborted) throw e;
    throw await inspected.then(
      () => e,
      (inspection: unknown) => inspection,
    );
  }
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

const README = 'README.txt';

/**
 * The job folder's README.txt (which job this folder of ids is, how to restore by hand), written when
 * missing and rewritten when what it says changed. Only a help: a storage that refuses it fails nothing.
 */
async function writeReadme(ctx: CoreContext, target: StorageRow, key: string, text: string, say: (level: 'warn', m: string) => void) {
  const storage = openSavedStorage(ctx, target);
  try {
    const existing = await storage.stat(key);
    if (existing?.size === Buffer.byteLength(text) && (await readText(await storage.get(key))) === text) return;
    if (existing) await storage.delete(key);
    await storage.put(key, Readable.from([Buffer.from(text)]));
  } catch (e) {
    say('warn', `Could not write ${key} on ${target.name}: ${(e as Error).message}`);
  } finally {
    await storage.close().catch(() => undefined);
  }
}

async function readText(stream: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(parts).toString('utf8');
}

/** Nothing of a failed or cancelled attempt may stay on a storage. */
async function removeFolder(storage: Storage, folder: string): Promise<void> {
  try {
    await removeBackupFolder(storage, folder);
  } catch (e) {
    log.warn(`could not remove the partial files in ${folder}`, e);
  }
}

/** Copies the primary's files to another storage (each part checked on the way), manifest last. */
async function replicate(ctx: CoreContext, primary: PrimaryCopy, target: StorageRow, folder: string, signal: AbortSignal): Promise<string | null> {
  const from = openSavedStorage(ctx, primary.storage);
  const to = openSavedStorage(ctx, target);
  try {
    for (const part of primary.written.parts) {
      await to.put(`${folder}/${part.file}`, await from.get(`${folder}/${part.file}`, { signal }), { signal, sizeHint: part.size });
    }
    const { toc } = primary.written;
    if (toc) await to.put(`${folder}/${toc.file}`, await from.get(`${folder}/${toc.file}`, { signal }), { signal });
    await to.put(`${folder}/manifest.json`, Readable.from([primary.written.manifest]), { signal });
    return null;
  } catch (e) {
    await removeFolder(to, folder);
    if (signal.aborted) throw e;
    return (e as Error).message;
  } finally {
    await Promise.all([from.close(), to.close()].map((p) => p.catch(() => undefined)));
  }
}
