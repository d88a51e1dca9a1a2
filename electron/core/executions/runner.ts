import type { EntityManager } from 'typeorm';
import type { ExecutionMetadata, Operation } from '../../../shared/schemas/execution.js';
import { BackupExecutions, type ExecutionRow } from '../db/entities.js';
import { metadataOf, storedMetadata } from '../db/metadata.js';
import type { CoreContext } from '../kernel/context.js';
import { scoped } from '../kernel/log.js';
import { runFailed } from '../notify/messages.js';
import type { NewNotification, Notifier } from '../notify/notifier.js';
import type { RunExecution } from './queue.js';
import { createReporter, failureOf, type Reporter } from './report.js';

const log = scoped('runner');

/** How a piece of work ended, for the runner to record. */
export interface Ending {
  /** `partial`: a whole server's backup where some databases failed (the rest are complete). */
  status: 'completed' | 'partial' | 'failed' | 'cancelled';
  /** `error_message`: why it failed, or what went wrong around a success (a copy that failed). */
  message?: string | null;
  stack?: string | null;
  /** Columns that say what was done (sizes, where it was written, what it restored from). */
  columns?: Partial<Pick<ExecutionRow, 'size_bytes' | 'compressed_size_bytes' | 'backup_path' | 'files_count' | 'storage_location_id'>>;
  /** The execution's metadata as it ended; the runner adds the log. */
  metadata: ExecutionMetadata;
  /** Writes that belong with the ending, in the same transaction (a backup's parts, its job's last run). */
  record?: (m: EntityManager) => Promise<unknown>;
  notification?: NewNotification | null;
  /** What follows once the ending is recorded (the verification a job asks for after each backup). */
  followUp?: () => Promise<unknown>;
}

/** One kind of execution's work. It may throw: the runner then records a failure. */
export type Work = (row: ExecutionRow, io: { signal: AbortSignal; report: Reporter }) => Promise<Ending>;

/**
 * The one runner: every execution, whatever its kind, ends the same way. The row is recorded first,
 * in one transaction; only then is it announced, notified and followed up, and none of those can
 * change what the row says: a backup whose files and manifest are written stays completed.
 */
export function createRunner(ctx: Pick<CoreContext, 'db' | 'events' | 'clock'>, notifier: Notifier, kinds: Record<Operation, Work>): RunExecution {
  return async (row, signal) => {
    const report = createReporter(ctx, row, row.started_at ?? ctx.clock.now());
    let ending: Ending;
    try {
      ending = await kinds[row.operation](row, { signal, report });
    } catch (e) {
      const failure = failureOf(e, signal);
      report.say(failure.status === 'cancelled' ? 'warn' : 'error', failure.message);
      ending = {
        status: failure.status,
        message: failure.message,
        stack: failure.stack,
        metadata: { ...metadataOf(row), engine_output: failure.engineOutput },
        // Never silent: work that failed before it could say so itself still reaches the inbox and the sinks.
        notification:
          failure.status === 'failed' ? runFailed({ operation: row.operation, jobId: row.job_id, executionId: row.id, message: failure.message }) : null,
      };
    }
    await ctx.db.transaction(async (m) => {
      await m.getRepository(BackupExecutions).update(row.id, {
        ...report.ended(ending.status),
        ...ending.columns,
        error_message: ending.message ?? null,
        error_stack: ending.stack ?? null,
        metadata: storedMetadata({ ...ending.metadata, execution_logs: report.logs }),
      });
      await ending.record?.(m);
    });
    const failed = ending.status === 'failed' ? (ending.message ?? null) : null;
    report.announce(ending.status, failed);
    try {
      if (ending.notification) await notifier.notify(ending.notification);
    } catch (e) {
      log.error(`[${row.id}] the notification of its end could not be saved`, e);
    }
    try {
      await ending.followUp?.();
    } catch (e) {
      log.warn(`[${row.id}] what follows it could not start: ${(e as Error).message}`);
    }
  };
}
