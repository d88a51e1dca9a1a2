import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../../shared/errors.js';
import { counted } from '../../../shared/format.js';
import type { DrillCheck, DrillCopy, DrillPhase } from '../../../shared/schemas/drill.js';
import type { DrillMetadata, SourceInfo, Verification } from '../../../shared/schemas/execution.js';
import { createDecompressor } from '../backup/compress.js';
import { isPartOf } from '../backup/layout.js';
import { datasourceConfig } from '../catalog/datasources.js';
import { identitiesFor } from '../catalog/keys.js';
import { backupTypeOf, locateBackup, type LocatedBackup, type LocatedCopy } from '../catalog/locate.js';
import { openSavedStorage } from '../catalog/storages.js';
import { BackupExecutions, BackupJobs, Datasources } from '../db/entities.js';
import { metadataOf, storedMetadata } from '../db/metadata.js';
import { backupEngineFor } from '../engines/index.js';
import { drillChecksFor } from '../engines/drill.js';
import { fileSource } from '../engines/source.js';
import { createAgeDecrypter, type KeyPair } from '../kernel/age.js';
import { appVersion } from '../kernel/app-version.js';
import type { CoreContext } from '../kernel/context.js';
import { readSettings, toolDirs } from '../kernel/settings.js';
import { drillFailed, drillSlower } from '../notify/messages.js';
import { checkRestored } from './drill-checks.js';
import { failureOf } from './report.js';
import type { RunKeys } from './run-keys.js';
import type { Work } from './runner.js';

/** `part-002` of `backup.dump.zst.part-002`; the file's name when the backup is one file. */
const partLabel = (file: string) => /part-\d+$/.exec(file)?.[0] ?? path.basename(file);

/** A copy brought here: its parts as local files, in order, or what went wrong with it. */
interface LocalCopy {
  copy: LocatedCopy;
  dir: string;
  files: string[];
  result: DrillCopy;
}

/**
 * Times one phase. Real time, not the app's clock: a phase's seconds are a measurement of how long the
 * work took (the RTO), which a test's ManualClock must not freeze.
 */
async function timed<T>(phases: DrillPhase[], name: DrillPhase['name'], work: () => Promise<{ value: T; ok: boolean; detail: string }>): Promise<T> {
  const started = performance.now();
  const phase: DrillPhase = { name, seconds: 0, ok: false, detail: '' };
  phases.push(phase);
  try {
    const { value, ok, detail } = await work();
    Object.assign(phase, { ok, detail });
    return value;
  } catch (e) {
    phase.detail = (e as Error).message;
    throw e;
  } finally {
    phase.seconds = Math.round((performance.now() - started) / 10) / 100;
  }
}

/** What failed first, in the words the notification uses: "checksums: part-002 on Backblaze: checksum mismatch". */
class DrillFailure extends AppError {
  constructor(
    readonly phase: DrillPhase['name'],
    message: string,
  ) {
    super('damaged', message);
  }
}

/**
 * A drill: one backup of a job, every copy on every storage downloaded and its checksums checked, decrypted
 * and decompressed, restored into a scratch target that is removed afterwards whatever happened, and checked
 * against what was recorded at backup time. Each phase is timed: their sum is the measured RTO.
 */
export function drillWork(ctx: CoreContext, runKeys: RunKeys): Work {
  return async (row, { signal, report }) => {
    const { say } = report;
    const request = metadataOf(row);
    if (request.operation !== 'drill') throw new Error(`execution ${row.id} is not a drill`);
    const phases: DrillPhase[] = [];
    const checks: DrillCheck[] = [];
    let copies: DrillCopy[] = [];
    let backup: LocatedBackup | undefined;
    let scratchDescription: string | undefined;
    let writeOnly = false;
    const toolVersions: Record<string, string> = { DataGuardian: appVersion() };
    let stack: string | null = null;
    let failure: { status: 'failed' | 'cancelled'; message: string; phase: DrillPhase['name'] | null } | null = null;

    const settings = await readSettings(ctx.db);
    const work = await mkdtemp(path.join(await ctx.temp.dir(settings['system.temp_directory']), 'drill-'));
    try {
      backup = await locateBackup(ctx, request.source_execution_id);
      const located = backup;
      if (located.metadata.database_version) toolVersions['Source server'] = located.metadata.database_version;
      report.progress({ stage: 'download', bytes_raw: 0, bytes_stored: 0, total_raw_estimate: null }, true);
      const local = await timed(phases, 'download', async () => {
        const all = await Promise.all(located.copies.map((copy, i) => download(ctx, copy, path.join(work, `copy-${i + 1}`), signal)));
        const bad = all.filter((c) => !c.result.ok);
        return { value: all, ok: bad.length === 0, detail: downloadDetail(all) };
      });
      copies = local.map((c) => c.result);
      if (local.length === 0) throw new DrillFailure('download', 'This backup has no completed copy on any storage');

      await timed(phases, 'checksums', async () => {
        for (const c of local) if (c.result.ok) c.result.error = await checksumsOf(c, located.metadata.server ? undefined : located.metadata.checksum, signal);
        for (const c of local) c.result.ok = c.result.error === null;
        const bad = local.filter((c) => !c.result.ok);
        return {
          value: undefined,
          ok: bad.length === 0,
          detail: bad.length ? bad.map((c) => c.result.error).join('; ') : `Every part of ${counted(local.length, 'copy', 'copies')} matches its SHA-256`,
        };
      });
      for (const c of local) say(c.result.ok ? 'info' : 'error', c.result.ok ? `${c.result.storage_name}: every part matches its SHA-256` : c.result.error!);
      const good = local.find((c) => c.result.ok);
      const bad = local.filter((c) => !c.result.ok);
      if (!good) throw new DrillFailure(phases.at(-1)!.name, bad.map((c) => c.result.error).join('; '));

      const keys = await keysFor(ctx, located, runKeys.of(row.id));
      if (keys === null) {
        writeOnly = true;
        say('warn', 'Write-only mode: no key here opens this encrypted backup, so this drill checked its checksums only');
      } else {
        const type = await backupTypeOf(ctx, located);
        const engine = backupEngineFor(type);
        const ds = located.execution.datasource_id ? await ctx.db.getRepository(Datasources).findOneBy({ id: located.execution.datasource_id }) : null;
        const job = located.execution.job_id ? await ctx.db.getRepository(BackupJobs).findOneBy({ id: located.execution.job_id }) : null;
        for (const artifact of drilledArtifacts(located, good)) {
          if (artifact.name) say('info', `Drilling database ${artifact.name}`);
          const rawPath = path.join(work, 'raw');
          await timed(phases, 'decrypt and decompress', async () => {
            await decode(artifact.files, located, keys, rawPath, signal);
            return { value: undefined, ok: true, detail: `${keys.length ? 'Decrypted with age and ' : ''}decompressed (${located.metadata.compression})` };
          });
          const scratchDir = await mkdtemp(path.join(work, 'scratch-'));
          const scratch = await engine.scratch({
            name: `dg_drill_${randomBytes(4).toString('hex')}`,
            dir: scratchDir,
            metadataUrl: (ctx.db.options as { url?: string }).url ?? '',
            sourceConfig: ds ? datasourceConfig(ctx, ds) : null,
            sourceName: ds?.name ?? null,
          });
          scratchDescription = scratch.description;
          try {
            say('info', `Restoring into a scratch target: ${scratch.description}`);
            report.progress({ stage: 'restore', bytes_raw: 0, bytes_stored: 0, total_raw_estimate: null }, true);
            await timed(phases, 'restore', async () => {
              await engine.restore(scratch.config, fileSource(rawPath), {
                parallelJobs: 1,
                toolDirs: toolDirs(settings),
                tempDir: work,
                signal,
                log: say,
                createDatabase: scratch.createDatabase,
                overwrite: false,
                source: located.metadata,
              });
              return { value: undefined, ok: true, detail: `Restored into ${scratch.description}` };
            });
            report.progress({ stage: 'check', bytes_raw: 0, bytes_stored: 0, total_raw_estimate: null }, true);
            await timed(phases, 'checks', async () => {
              const found = await checkRestored({
                type,
                checks: drillChecksFor(type),
                config: scratch.config,
                recorded: artifact.recorded,
                assertions: artifact.name ? [] : (job?.drill_assertions ?? []),
                signal,
              });
              const named = found.checks.map((c) => (artifact.name ? { ...c, name: `${artifact.name}: ${c.name}` } : c));
              checks.push(...named);
              const failed = named.filter((c) => !c.ok);
              for (const c of named) say(c.ok ? 'info' : 'error', `${c.name}: ${c.detail}`);
              return {
                value: undefined,
                ok: failed.length === 0,
                detail: failed.length ? failed.map((c) => `${c.name}: ${c.detail}`).join('; ') : `${counted(named.length, 'check')} passed`,
              };
            });
          } finally {
            await scratch.drop().catch((e: Error) => say('warn', `Could not remove the scratch target ${scratch.description}: ${e.message}`));
            await rm(rawPath, { force: true });
          }
        }
        const failedChecks = checks.filter((c) => !c.ok);
        if (failedChecks.length) throw new DrillFailure('checks', failedChecks.map((c) => `${c.name}: ${c.detail}`).join('; '));
      }
      if (bad.length) throw new DrillFailure('checksums', bad.map((c) => c.result.error).join('; '));
    } catch (e) {
      const f = failureOf(e, signal);
      failure = { status: f.status, message: f.message, phase: e instanceof DrillFailure ? e.phase : (phases.find((p) => !p.ok)?.name ?? null) };
      stack = f.stack;
    } finally {
      runKeys.drop(row.id);
      await rm(work, { recursive: true, force: true });
    }

    const rto = Math.round(phases.reduce((n, p) => n + p.seconds, 0) * 100) / 100;
    const takenAt = backup?.execution.started_at ?? backup?.execution.created_at ?? null;
    const rpo = takenAt ? Math.max(0, Math.round((ctx.clock.now().getTime() - takenAt.getTime()) / 1000)) : undefined;
    const ok = failure === null;
    const message = failure
      ? failure.phase
        ? `${failure.phase}: ${failure.message}`
        : failure.message
      : writeOnly
        ? 'Write-only mode: every copy matches its checksums; no key here opens the backup, so it was not restored'
        : `Restored from ${copies.find((c) => c.ok)?.storage_name} in ${rto} s; ${counted(checks.length, 'check')} passed`;
    say(ok ? 'info' : failure?.status === 'cancelled' ? 'warn' : 'error', message);
    const verification: Verification = {
      execution_id: row.id,
      method: 'restore-test',
      at: ctx.clock.now().toISOString(),
      ok,
      message,
      tables: backup?.metadata.tables_backed_up ?? null,
      rows: backup?.metadata.table_rows ? backup.metadata.table_rows.reduce((n, t) => n + t.rows, 0) : null,
      copies: copies.map((c) => ({ storage_name: c.storage_name, ok: c.ok, error: c.error })),
    };
    const metadata: DrillMetadata = {
      ...request,
      job_name: backup?.metadata.job_name ?? request.job_name ?? null,
      datasource_name: backup?.metadata.datasource_name ?? null,
      datasource_type: backup?.metadata.datasource_type ?? null,
      backup_taken_at: takenAt?.toISOString(),
      copies,
      phases,
      checks,
      rto_seconds: rto,
      rpo_seconds: rpo,
      write_only: writeOnly,
      scratch: scratchDescription,
      tool_versions: toolVersions,
      verification,
    };
    const status = failure?.status ?? 'completed';
    const previous = status === 'completed' && !writeOnly ? await lastRto(ctx, row.job_id, row.id) : null;
    return {
      status,
      message: ok ? null : message,
      stack,
      metadata,
      record: async (m) => {
        const source = backup?.execution;
        // A cancelled drill proves nothing either way: the backup keeps its previous verdict.
        if (source && status !== 'cancelled') {
          await m.getRepository(BackupExecutions).update(source.id, { metadata: storedMetadata({ ...backup!.metadata, verification }) });
        }
      },
      notification:
        status === 'failed'
          ? drillFailed({ jobId: row.job_id, executionId: row.id, jobName: metadata.job_name ?? null, backupTakenAt: takenAt, message })
          : previous !== null && rto > previous * 1.5
            ? drillSlower({ jobId: row.job_id, executionId: row.id, jobName: metadata.job_name ?? null, rtoSeconds: rto, previousSeconds: previous })
            : null,
    };
  };
}

/** The RTO of the job's drill before this one (the last that restored), to see a restore getting slower. */
async function lastRto(ctx: CoreContext, jobId: string | null, except: string): Promise<number | null> {
  if (!jobId) return null;
  const [r] = (await ctx.db.query(
    `SELECT (metadata->>'rto_seconds')::float AS rto FROM backup_executions
     WHERE job_id = $1 AND operation = 'drill' AND status = 'completed' AND id <> $2 AND NOT coalesce((metadata->>'write_only')::boolean, false)
     ORDER BY finished_at DESC NULLS LAST LIMIT 1`,
    [jobId, except],
  )) as { rto: number | null }[];
  return r?.rto ?? null;
}

/** The keys that open it ([] for a backup that is not encrypted); null in write-only mode (no key here opens it). */
async function keysFor(ctx: CoreContext, backup: LocatedBackup, given: KeyPair[]): Promise<KeyPair[] | null> {
  if (!backup.metadata.encryption) return [];
  try {
    return await identitiesFor(ctx, backup.metadata.encryption, given);
  } catch (e) {
    if (e instanceof AppError && e.code === 'key_required') return null;
    throw e;
  }
}

/** Every part of one copy into a private folder; a part that cannot be read is named with its storage. */
async function download(ctx: CoreContext, copy: LocatedCopy, dir: string, signal: AbortSignal): Promise<LocalCopy> {
  const result: DrillCopy = { storage_name: copy.storage.name, storage_type: copy.storage.type, ok: true, parts: copy.chunks.length, error: null };
  const files: string[] = [];
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const storage = openSavedStorage(ctx, copy.storage);
  try {
    for (const chunk of copy.chunks) {
      const file = path.join(dir, `part-${String(chunk.chunk_number).padStart(6, '0')}`);
      try {
        await pipeline(await storage.get(chunk.file_path, { signal }), createWriteStream(file, { mode: 0o600 }), { signal });
      } catch (e) {
        signal.throwIfAborted();
        return { copy, dir, files, result: { ...result, ok: false, error: `${partLabel(chunk.file_path)} on ${copy.storage.name}: ${(e as Error).message}` } };
      }
      files.push(file);
    }
    return { copy, dir, files, result };
  } finally {
    await storage.close().catch(() => undefined);
  }
}

function downloadDetail(all: LocalCopy[]): string {
  const bad = all.filter((c) => !c.result.ok);
  if (bad.length) return bad.map((c) => c.result.error).join('; ');
  return all.map((c) => `${c.result.storage_name}: ${counted(c.files.length, 'part')}`).join('; ');
}

/** Each part's SHA-256 against the catalog's, and the joined file's against the manifest's; null when all match. */
async function checksumsOf(c: LocalCopy, expected: string | undefined, signal: AbortSignal): Promise<string | null> {
  const whole = createHash('sha256');
  for (const [i, file] of c.files.entries()) {
    const hash = createHash('sha256');
    for await (const data of createReadStream(file, { signal })) {
      hash.update(data as Buffer);
      whole.update(data as Buffer);
    }
    const chunk = c.copy.chunks[i]!;
    if (hash.digest('hex') !== chunk.checksum) return `${partLabel(chunk.file_path)} on ${c.copy.storage.name}: checksum mismatch`;
  }
  if (expected && `sha256:${whole.digest('hex')}` !== expected) return `the joined parts on ${c.copy.storage.name}: checksum mismatch`;
  return null;
}

/**
 * What a drill restores: the backup's one artifact, or each database a whole server's backup holds (its own parts; the
 * globals are checked by their checksums, and a server's roles are not replayed into a scratch database).
 */
function drilledArtifacts(backup: LocatedBackup, good: LocalCopy): { name: string | null; files: string[]; recorded: SourceInfo }[] {
  const { server } = backup.metadata;
  if (!server) return [{ name: null, files: good.files, recorded: backup.metadata }];
  const ofArtifact = (artifact: string) => good.files.filter((_, i) => isPartOf(path.posix.basename(good.copy.chunks[i]!.file_path), artifact));
  return server.databases.filter((d) => d.status === 'completed').map((d) => ({ name: d.name, files: ofArtifact(d.artifact), recorded: d.source }));
}

/** Parts of the good copy joined, decrypted when encrypted, and decompressed into `rawPath`. */
async function decode(files: string[], backup: LocatedBackup, keys: KeyPair[], rawPath: string, signal: AbortSignal): Promise<void> {
  const { compression } = backup.metadata;
  if (!compression) throw new AppError('validation_error', 'This backup does not say how it was compressed');
  async function* joined() {
    for (const file of files) yield* createReadStream(file, { signal });
  }
  const stages = [
    Readable.from(joined()),
    ...(keys.length ? [createAgeDecrypter(keys.map((k) => k.identity))] : []),
    createDecompressor(compression),
    createWriteStream(rawPath, { mode: 0o600 }),
  ];
  try {
    await pipeline(stages as unknown as [Readable, NodeJS.WritableStream], { signal });
  } catch (e) {
    signal.throwIfAborted();
    throw new DrillFailure(
      'decrypt and decompress',
      `Every checksum matches, but the backup cannot be ${keys.length ? 'decrypted or ' : ''}decompressed: ${(e as Error).message}`,
    );
  }
}
