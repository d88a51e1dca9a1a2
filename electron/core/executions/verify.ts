import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Verification, VerifyMetadata } from '../../../shared/schemas/execution.js';
import { locateBackup } from '../catalog/locate.js';
import { openSavedStorage } from '../catalog/storages.js';
import { BackupExecutions } from '../db/entities.js';
import { metadataOf, storedMetadata } from '../db/metadata.js';
import type { CoreContext } from '../kernel/context.js';
import { joinParts } from '../restore/join.js';
import { verifyFailed } from '../notify/messages.js';
import { failureOf, type Say } from './report.js';
import type { Work } from './runner.js';

interface Outcome {
  ok: boolean;
  message: string;
  tables: number | null;
  rows: number | null;
  copies: Verification['copies'];
}

/**
 * A verification, kept on the backup as its last verdict (`metadata.verification`): every part read back
 * from every storage and its checksum checked. A test restore is a drill (drill.ts).
 */
export function verifyWork(ctx: CoreContext): Work {
  return async (row, { signal, report }) => {
    const { say, progress } = report;
    const request = metadataOf(row);
    if (request.operation !== 'verify') throw new Error(`execution ${row.id} is not a verification`);
    let outcome: Outcome;
    let stack: string | null = null;
    try {
      progress({ stage: 'download', bytes_raw: 0, bytes_stored: 0, total_raw_estimate: null }, true);
      // A test restore is a drill now (drill.ts): a verification reads the checksums.
      outcome = await checksums(ctx, request.source_execution_id, signal, say);
    } catch (e) {
      const failure = failureOf(e, signal);
      outcome = { ok: false, message: failure.message, tables: null, rows: null, copies: [] };
      stack = failure.stack;
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
