import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Verification, VerifyMetadata } from '../../../shared/schemas/execution.js';
import { datasourceConfig } from '../catalog/datasources.js';
import { backupTypeOf, locateBackup } from '../catalog/locate.js';
import { openSavedStorage } from '../catalog/storages.js';
import { BackupExecutions, Datasources } from '../db/entities.js';
import { metadataOf, storedMetadata } from '../db/metadata.js';
import { backupEngineFor } from '../engines/index.js';
import type { KeyPair } from '../kernel/age.js';
import type { CoreContext } from '../kernel/context.js';
import { readSettings, toolDirs } from '../kernel/settings.js';
import { joinParts } from '../restore/join.js';
import { fetchVerified } from './fetch.js';
import { counted } from '../../../shared/format.js';
import { holdings } from '../../../shared/words.js';
import { verifyFailed } from '../notify/messages.js';
import { failureOf, type Progress, type Say } from './report.js';
import type { RunKeys } from './run-keys.js';
import type { Work } from './runner.js';

interface Outcome {
  ok: boolean;
  message: string;
  tables: number | null;
  rows: number | null;
  copies: Verification['copies'];
}

/**
 * A verification, kept on the backup as its last verdict (`metadata.verification`): `checksum` reads
 * every part back from every storage; `restore-test` restores into a scratch target, counts tables
 * and rows, and drops the scratch target.
 */
export function verifyWork(ctx: CoreContext, runKeys: RunKeys): Work {
  return async (row, { signal, report }) => {
    const { say, progress } = report;
    const request = metadataOf(row);
    if (request.operation !== 'verify') throw new Error(`execution ${row.id} is not a verification`);
    let outcome: Outcome;
    let stack: string | null = null;
    try {
      progress({ stage: 'download', bytes_raw: 0, bytes_stored: 0, total_raw_estimate: null }, true);
      outcome =
        request.method === 'checksum'
          ? await checksums(ctx, request.source_execution_id, signal, say)
          : await restoreTest(ctx, request.source_execution_id, signal, say, progress, runKeys.of(row.id));
    } catch (e) {
      const failure = failureOf(e, signal);
      outcome = { ok: false, message: failure.message, tables: null, rows: null, copies: [] };
      stack = failure.stack;
    } finally {
      runKeys.drop(row.id);
    }
    say(outcome.ok ? 'info' : 'error', outcome.message);
    const status = signal.aborted ? 'cancelled' : outcome.ok ? 'completed' : 'failed';
    const verification: Verification = { execution_id: row.id, method: request.method, at: ctx.clock.now().toISOString(), ...outcome };
    const source = await ctx.db.getRepository(BackupExecutions).findOneBy({ id: request.source_execution_id });
    const sourceMetadata = source ? metadataOf(source) : null;
    const metadata: VerifyMetadata = {
      ...request,
      job_name: sourceMetadata?.job_name ?? null,
      datasource_name: sourceMetadata?.datasource_name ?? null,
      verification,
    };
    return {
      status,
      message: outcome.ok ? null : outcome.message,
      stack,
      metadata,
      record: async (m) => {
        // A cancelled check proves nothing either way: the backup keeps its previous verdict.
        if (source && sourceMetadata?.operation === 'backup' && status !== 'cancelled') {
          await m.getRepository(BackupExecutions).update(source.id, { metadata: storedMetadata({ ...sourceMetadata, verification }) });
        }
      },
      notification:
        status === 'failed'
          ? verifyFailed({
              jobId: row.job_id,
              executionId: row.id,
              sourceExecutionId: request.source_execution_id,
              jobName: sourceMetadata?.job_name ?? null,
              backupTakenAt: source?.created_at ?? null,
              method: request.method,
              message: outcome.message,
            })
          : null,
    };
  };
}

/** Every part of every copy read back and hashed; one bad copy fails the check and is named. */
async function checksums(ctx: CoreContext, backupId: string, signal: AbortSignal, say: Say): Promise<Outcome> {
  const { copies } = await locateBackup(ctx, backupId);
  if (copies.length === 0) return { ok: false, message: 'This backup has no completed copy to check', tables: null, rows: null, copies: [] };
  const results: Verification['copies'] = [];
  for (const copy of copies) {
    try {
      const sink = new Writable({ write: (_c, _e, done) => done() });
      await pipeline(joinParts(openSavedStorage(ctx, copy.storage), copy.chunks), sink, { signal });
      results.push({ storage_name: copy.storage.name, ok: true, error: null });
      say('info', `${copy.storage.name}: ${copy.chunks.length === 1 ? 'its file matches its' : `all ${copy.chunks.length} files match their`} SHA-256`);
    } catch (e) {
      if (signal.aborted) throw e;
      results.push({ storage_name: copy.storage.name, ok: false, error: (e as Error).message });
      say('error', `${copy.storage.name}: ${(e as Error).message}`);
    }
  }
  const bad = results.filter((r) => !r.ok);
  return {
    ok: bad.length === 0,
    message: bad.length
      ? `Damaged or unreadable: ${bad.map((b) => `${b.storage_name} (${b.error})`).join('; ')}`
      : `Every file of ${results.length} cop${results.length === 1 ? 'y' : 'ies'} matches its SHA-256`,
    tables: null,
    rows: null,
    copies: results,
  };
}

/** A whole server's backup is tested database by database, each from its own artifact; the others are one artifact. */
async function restoreTest(ctx: CoreContext, backupId: string, signal: AbortSignal, say: Say, progress: Progress, keys: KeyPair[]): Promise<Outcome> {
  const server = (await locateBackup(ctx, backupId)).metadata.server;
  if (!server) return restoreTestOne(ctx, backupId, signal, say, progress, keys);
  const outcomes: Outcome[] = [];
  for (const d of server.databases.filter((d) => d.status === 'completed')) {
    say('info', `Testing ${d.name}`);
    const artifact = { file: d.artifact, checksum: d.checksum!, expectedTables: d.source.tables_backed_up ?? null };
    const outcome = await restoreTestOne(ctx, backupId, signal, say, progress, keys, artifact);
    outcomes.push({ ...outcome, message: `${d.name}: ${outcome.message}` });
  }
  const bad = outcomes.filter((o) => !o.ok);
  return {
    ok: bad.length === 0,
    message: bad.length
      ? bad.map((o) => o.message).join('; ')
      : `${counted(outcomes.length, 'database')} restored: ${outcomes.map((o) => o.message).join('; ')}`,
    tables: outcomes.reduce((n, o) => n + (o.tables ?? 0), 0),
    rows: outcomes.reduce((n, o) => n + (o.rows ?? 0), 0),
    copies: outcomes[0]?.copies ?? [],
  };
}

/** Restores into a scratch target nobody uses, counts what arrived, and removes the scratch target. */
async function restoreTestOne(
  ctx: CoreContext,
  backupId: string,
  signal: AbortSignal,
  say: Say,
  progress: Progress,
  keys: KeyPair[],
  /** One database of a whole server's backup. */
  artifact?: { file: string; checksum: string; expectedTables: number | null },
): Promise<Outcome> {
  const settings = await readSettings(ctx.db);
  const tempDir = await ctx.temp.dir(settings['system.temp_directory']);
  const fetched = await fetchVerified(ctx, backupId, { tempDir, signal, say, progress, keys, artifact });
  const scratchDir = await mkdtemp(path.join(tempDir, 'verify-'));
  try {
    const backup = fetched.backup;
    const type = await backupTypeOf(ctx, backup);
    const engine = backupEngineFor(type);
    const ds = backup.execution.datasource_id ? await ctx.db.getRepository(Datasources).findOneBy({ id: backup.execution.datasource_id }) : null;
    const scratch = await engine.scratch({
      name: `dg_verify_${randomBytes(4).toString('hex')}`,
      dir: scratchDir,
      metadataUrl: (ctx.db.options as { url?: string }).url ?? '',
      sourceConfig: ds ? datasourceConfig(ctx, ds) : null,
      sourceName: ds?.name ?? null,
    });
    say('info', `Restoring into a scratch target: ${scratch.description}`);
    progress({ stage: 'restore', bytes_raw: 0, bytes_stored: 0, total_raw_estimate: null }, true);
    try {
      await engine.restore(scratch.config, fetched.rawPath, {
        parallelJobs: 1,
        toolDirs: toolDirs(settings),
        tempDir,
        signal,
        log: say,
        createDatabase: scratch.createDatabase,
        overwrite: false,
        source: backup.metadata,
      });
      progress({ stage: 'check', bytes_raw: 0, bytes_stored: 0, total_raw_estimate: null }, true);
      // Counted row by row: checking what arrived is the point of a restore test.
      const summary = await engine.summarize(scratch.config, { signal, estimate: false });
      const expected = artifact ? artifact.expectedTables : (backup.metadata.tables_backed_up ?? null);
      const ok = expected === null || summary.tables === expected;
      return {
        ok,
        message: ok
          ? `Restored from ${fetched.copy.storage_name}: ${holdings(type, summary)}`
          : `The restore holds ${counted(summary.tables, 'table')} but the backup recorded ${expected}`,
        tables: summary.tables,
        rows: summary.rows,
        copies: [{ storage_name: fetched.copy.storage_name, ok: true, error: null }],
      };
    } finally {
      await scratch.drop().catch((e: Error) => say('warn', `Could not remove the scratch target: ${e.message}`));
    }
  } finally {
    await rm(scratchDir, { recursive: true, force: true });
    await fetched.cleanup();
  }
}
