import path from 'node:path';
import { Readable } from 'node:stream';
import { In } from 'typeorm';
import { databaseFileStem } from '../../../shared/databases.js';
import { AppError } from '../../../shared/errors.js';
import { counted } from '../../../shared/format.js';
import type { ServerConnectionConfig } from '../../../shared/schemas/datasource.js';
import type { ServerBackup, ServerDatabaseBackup, SourceInfo } from '../../../shared/schemas/execution.js';
import type { PartInfo } from '../backup/chunks.js';
import { artifactBaseName, isPartOf } from '../backup/layout.js';
import { buildManifest, type Manifest } from '../backup/manifest.js';
import { StorageWriteError, writeArtifact, type WrittenArtifact } from '../backup/pipeline.js';
import { serverDatabasesOf } from '../catalog/server-databases.js';
import { BackupExecutions } from '../db/entities.js';
import { metadataOf } from '../db/metadata.js';
import { serverEngineFor } from '../engines/index.js';
import type { CoreContext } from '../kernel/context.js';
import type { Storage } from '../storage/types.js';
import { pipelineOptions, putManifest, type BackupRun, type CopyWriter, type WrittenCopy } from './backup-run.js';

/** A server's globals are a few KB (thousands of roles: a few MB): read whole, so a failure can still leave a file that says why. */
const GLOBALS_MAX_BYTES = 64 * 1024 * 1024;

/** Which databases this run backs up, and what changed since the job's last run. */
interface Discovery {
  picked: string[];
  /** The server's estimate of each picked database's size, for the progress bar. */
  estimate: number | null;
  added: string[];
  gone: string[];
}

interface DatabaseResult {
  entry: ServerDatabaseBackup;
  written: WrittenArtifact | null;
  engineOutput: string;
}

interface GlobalsResult {
  artifact: string;
  written: WrittenArtifact;
  status: 'completed' | 'failed';
  error: string | null;
  notes: string[];
}

/**
 * Every database on a server, each its own artifact in the run's folder (`shop.dump.zst`, its parts, its checksum),
 * plus the server's globals (`globals.sql.zst`), one manifest listing them all. Databases go N at a time
 * (`parallel_databases`); one that fails is named and the others go on: the run ends `partial`.
 */
export function serverCopyWriter(ctx: CoreContext, run: BackupRun): CopyWriter {
  const discovered = discover(ctx, run);
  // Read by the first attempt; a failure is thrown there.
  discovered.catch(() => undefined);
  return async (storage, folder) => {
    const discovery = await discovered;
    const globals = await backUpGlobals(run, storage, folder);
    const results = await backUpDatabases(run, discovery, storage, folder);
    const failed = results.filter((r) => r.entry.status === 'failed');
    if (failed.length === results.length) {
      throw new AppError('connection_failed', `No database could be backed up: ${failed.map((r) => `${r.entry.name} (${r.entry.error})`).join('; ')}`);
    }
    if (failed.length) run.say('warn', `Not backed up: ${failed.map((r) => r.entry.name).join(', ')}; the other databases are complete backups`);
    return finishServerCopy(run, storage, folder, discovery, globals, results);
  };
}

/** Lists the server, applies the patterns, and compares with the job's last run ("Now also backing up sales_2027"). */
async function discover(ctx: CoreContext, run: BackupRun): Promise<Discovery> {
  const { datasource, config, say, signal } = run;
  const listed = await serverDatabasesOf(datasource.type, config, signal);
  // A safety backup before a restore takes only the databases the restore replaces.
  const only = run.request.only_databases;
  const chosen = listed.databases.filter((d) => (only ? only.includes(d.name) : d.reason === 'picked')).sort((a, b) => a.name.localeCompare(b.name));
  const picked = chosen.map((d) => d.name);
  if (picked.length === 0) {
    throw new AppError(
      'validation_error',
      `No database on ${datasource.name} matches its patterns (the server has ${listed.databases.map((d) => d.name).join(', ') || 'none the login can see'}): edit the datasource's include and exclude lists`,
    );
  }
  say('info', `${counted(picked.length, 'database')} to back up: ${picked.join(', ')}`);
  const previous = only ? null : await lastRunDatabases(ctx, run);
  const added = previous ? picked.filter((n) => !previous.includes(n)) : [];
  const gone = previous ? previous.filter((n) => !picked.includes(n)) : [];
  for (const name of added) say('info', `Now also backing up ${name}`);
  for (const name of gone) {
    const still = listed.databases.find((d) => d.name === name);
    say('warn', still ? `${name} is no longer picked by the patterns: not backed up` : `${name} is gone from the server: not backed up`);
  }
  const sizes = chosen.map((d) => d.size_bytes);
  return { picked, added, gone, estimate: sizes.every((s) => s !== null) ? sizes.reduce<number>((n, s) => n + s!, 0) : null };
}

/** The databases the job's last whole-server backup held (completed or partial); null for its first. */
async function lastRunDatabases(ctx: CoreContext, run: BackupRun): Promise<string[] | null> {
  const rows = await ctx.db.getRepository(BackupExecutions).find({
    where: { job_id: run.job.id, operation: 'backup', status: In(['completed', 'partial']) },
    order: { created_at: 'DESC' },
    take: 10,
  });
  for (const row of rows) {
    const m = metadataOf(row);
    // A safety backup ran against another datasource: not this server's history.
    if (m.operation === 'backup' && m.server && !m.safety_for) return m.server.databases.map((d) => d.name);
  }
  return null;
}

/** The server's roles and grants, as one artifact; when they cannot be read, a file saying why stands in and the run is partial. */
async function backUpGlobals(run: BackupRun, storage: Storage, folder: string): Promise<GlobalsResult> {
  const { options, encryption, config, datasource, engineOptions, signal, say } = run;
  const artifact = artifactBaseName('sql', options.compression, Boolean(encryption), 'globals');
  let text: Buffer;
  let notes: string[] = [];
  let error: string | null = null;
  try {
    const dump = await serverEngineFor(datasource.type).dumpGlobals(config, engineOptions);
    notes = dump.notes;
    text = await readWhole(dump.stream, dump.finished);
    await dump.finished;
  } catch (e) {
    if (signal.aborted) throw e;
    error = (e as Error).message;
    say('error', `The server's roles and grants could not be backed up: ${error}`);
    text = Buffer.from(`-- The server's globals could not be read when this backup was made: ${error.replace(/\n/g, ' ')}\n`);
  }
  for (const note of notes) say('warn', note);
  const written = await writeArtifact({ ...(await pipelineOptions(run, storage, folder)), source: Readable.from([text]), baseName: artifact });
  return { artifact, written, status: error ? 'failed' : 'completed', error, notes };
}

async function readWhole(stream: Readable, finished: Promise<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (size > GLOBALS_MAX_BYTES) throw new Error(`the globals are larger than ${GLOBALS_MAX_BYTES / 1024 / 1024} MB`);
      parts.push(chunk as Buffer);
    }
  } catch (e) {
    // A broken stream says little; the tool's own error names the cause.
    throw await finished.then(
      () => e,
      (err: unknown) => err,
    );
  }
  return Buffer.concat(parts);
}

/** Each picked database through the one backup pipeline, `parallel_databases` at a time, in name order in the result. */
async function backUpDatabases(run: BackupRun, discovery: Discovery, storage: Storage, folder: string): Promise<DatabaseResult[]> {
  const at = run.options.parallel_databases;
  if (at > 1) run.say('info', `${at} databases at a time`);
  const done = new Map<string, { raw: number; stored: number }>();
  const onBytes = (name: string) => (raw: number, stored: number) => {
    done.set(name, { raw, stored });
    let sumRaw = 0;
    let sumStored = 0;
    for (const b of done.values()) {
      sumRaw += b.raw;
      sumStored += b.stored;
    }
    run.progress({ stage: 'dump', bytes_raw: sumRaw, bytes_stored: sumStored, total_raw_estimate: discovery.estimate });
  };
  return atMost(discovery.picked, at, (name) => backUpDatabase(run, name, storage, folder, onBytes(name)));
}

/** Runs `work` on every item, at most `n` at once; results in the items' order. Once one throws, no new one starts. */
async function atMost<T, R>(items: T[], n: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  let stopped = false;
  const worker = async () => {
    while (!stopped && next < items.length) {
      const i = next++;
      try {
        results[i] = await work(items[i]!);
      } catch (e) {
        stopped = true;
        throw e;
      }
    }
  };
  // Every worker ends before the error is thrown: none may still write into a folder being removed.
  const ended = await Promise.allSettled(Array.from({ length: Math.min(n, items.length) }, worker));
  const failure = ended.find((r) => r.status === 'rejected');
  if (failure) throw failure.reason;
  return results;
}

/** One database: dumped with the job's settings into `<name>.<format>.<compression>[.age]`; a failure is kept, not thrown. */
async function backUpDatabase(
  run: BackupRun,
  name: string,
  storage: Storage,
  folder: string,
  onBytes: (raw: number, stored: number) => void,
): Promise<DatabaseResult> {
  const { engine, engineOptions, options, encryption, signal, say } = run;
  const config = { ...(run.config as ServerConnectionConfig), database: name, all_databases: false };
  const artifact = artifactBaseName(engine.formatOf?.(engineOptions) ?? engine.format, options.compression, Boolean(encryption), databaseFileStem(name));
  const opts = { ...engineOptions, log: (level: 'info' | 'warn' | 'error', m: string) => say(level, `${name}: ${m}`) };
  const started = performance.now();
  const entry = (patch: Partial<ServerDatabaseBackup>): ServerDatabaseBackup => ({
    name,
    artifact,
    status: 'completed',
    error: null,
    size_bytes: 0,
    compressed_size_bytes: 0,
    checksum: null,
    parts: 0,
    duration_ms: Math.round(performance.now() - started),
    source: {},
    ...patch,
  });
  try {
    const { size_estimate_bytes: _estimate, ...source } = await engine.inspect(config, opts);
    const dump = await engine.dump(config, opts);
    const written = await writeArtifact({
      ...(await pipelineOptions(run, storage, folder)),
      source: dump.stream,
      finished: dump.finished,
      baseName: artifact,
      onBytes,
    });
    const result = await dump.finished;
    say('info', `${name}: backed up (${counted(written.parts.length, 'file')})`);
    return {
      entry: entry({
        size_bytes: written.raw.bytes,
        compressed_size_bytes: written.stored.bytes,
        checksum: `sha256:${written.stored.sha256}`,
        parts: written.parts.length,
        source,
      }),
      written,
      engineOutput: result.engine_output,
    };
  } catch (e) {
    if (e instanceof StorageWriteError || signal.aborted) throw e;
    const error = (e as Error).message;
    await removeArtifact(storage, folder, artifact);
    say('error', `${name}: not backed up: ${error}`);
    return { entry: entry({ status: 'failed', error }), written: null, engineOutput: (e as { engineOutput?: string }).engineOutput ?? '' };
  }
}

/** What a failed database left in the folder (parts written before its dump broke). */
async function removeArtifact(storage: Storage, folder: string, artifact: string): Promise<void> {
  const objects = await storage.list(`${folder}/`).catch(() => []);
  for (const o of objects) if (isPartOf(path.posix.basename(o.key), artifact)) await storage.delete(o.key).catch(() => undefined);
}

/** The manifest (globals at the top, each database listed with its file, size, checksum, parts, duration and status), written last. */
async function finishServerCopy(
  run: BackupRun,
  storage: Storage,
  folder: string,
  discovery: Discovery,
  globals: GlobalsResult,
  results: DatabaseResult[],
): Promise<WrittenCopy> {
  const { job, datasource, options, encryption, signal } = run;
  const good = results.filter((r): r is DatabaseResult & { written: WrittenArtifact } => r.written !== null);
  const rawBytes = globals.written.raw.bytes + good.reduce((n, r) => n + r.written.raw.bytes, 0);
  const storedBytes = globals.written.stored.bytes + good.reduce((n, r) => n + r.written.stored.bytes, 0);
  const version = good.find((r) => r.entry.source.database_version)?.entry.source.database_version;
  const source: SourceInfo = {
    ...(version ? { database_version: version } : {}),
    tables_backed_up: good.reduce((n, r) => n + (r.entry.source.tables_backed_up ?? 0), 0),
    rows_approximate: good.reduce((n, r) => n + (r.entry.source.rows_approximate ?? 0), 0),
  };
  const server: ServerBackup = {
    databases: results.map((r) => r.entry),
    globals: { artifact: globals.artifact, status: globals.status, error: globals.error, notes: globals.notes },
    added: discovery.added,
    gone: discovery.gone,
    parallel_databases: options.parallel_databases,
  };
  const manifest: Manifest = {
    ...buildManifest({
      executionId: run.row.id,
      job: { id: job.id, name: job.name },
      datasource: { id: datasource.id, name: datasource.name, type: datasource.type },
      createdAt: run.startedAt,
      compression: options.compression,
      encryption,
      artifact: globals.artifact,
      written: { raw: { bytes: rawBytes }, stored: { bytes: storedBytes, sha256: globals.written.stored.sha256 }, parts: globals.written.parts },
      metadata: { ...source, databases_count: good.length },
    }),
    server: {
      databases: results.map((r) => ({
        name: r.entry.name,
        artifact: r.entry.artifact,
        status: r.entry.status,
        error: r.entry.error,
        total_size_bytes: r.entry.size_bytes,
        compressed_size_bytes: r.entry.compressed_size_bytes,
        checksum: r.entry.checksum,
        chunks: (r.written?.parts ?? []).map(toChunk),
        duration_ms: r.entry.duration_ms,
        metadata: r.entry.source,
      })),
      globals_status: globals.status,
      globals_notes: globals.notes,
    },
  };
  const partial = [...(globals.status === 'failed' ? ['the roles and grants'] : []), ...results.filter((r) => !r.written).map((r) => r.entry.name)];
  return {
    parts: [...globals.written.parts, ...good.flatMap((r) => r.written.parts)],
    rawBytes,
    storedBytes,
    artifact: globals.artifact,
    checksum: `sha256:${globals.written.stored.sha256}`,
    manifest: await putManifest(storage, folder, manifest, signal),
    source,
    filesCount: null,
    engineOutput: results.map((r) => (r.engineOutput ? `== ${r.entry.name}\n${r.engineOutput}` : '')).join(''),
    partial,
    server,
  };
}

const toChunk = (p: PartInfo) => ({ number: p.number, file: p.file, size_bytes: p.size, checksum: `sha256:${p.sha256}` });
