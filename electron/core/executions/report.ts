import { AppError } from '../../../shared/errors.js';
import type { ExecutionStatus } from '../../../shared/schemas/enums.js';
import type { ExecutionLog, ExecutionProgress } from '../../../shared/schemas/execution.js';
import type { ExecutionRow } from '../db/entities.js';
import type { CoreContext } from '../kernel/context.js';
import { scoped } from '../kernel/log.js';

const log = scoped('execution');
const PROGRESS_EVERY_MS = 400;

export type Say = (level: ExecutionLog['level'], message: string) => void;
export type Progress = (p: Omit<ExecutionProgress, 'execution_id' | 'job_id' | 'elapsed_ms' | 'throughput_bps'>, force?: boolean) => void;
export type Ended = { status: ExecutionStatus; finished_at: Date; duration_seconds: number };

export interface Reporter {
  logs: ExecutionLog[];
  say: Say;
  progress: Progress;
  /** The row's closing fields: its final status, when it finished, how long it took. */
  ended(status: ExecutionStatus): Ended;
  /** Tells the UI and the tray, once the row says so. */
  announce(status: ExecutionStatus, errorMessage?: string | null): void;
}

export interface Failure {
  status: 'cancelled' | 'failed';
  message: string;
  /** Only for a bug (not an AppError): what a maintainer needs. */
  stack: string | null;
  engineOutput?: string;
}

/** Why an execution stopped: cancelled (the abort's reason) or failed (the error). */
export function failureOf(e: unknown, signal: AbortSignal): Failure {
  const error = e as Error & { engineOutput?: string };
  const cancelled = signal.aborted || (e instanceof AppError && e.code === 'cancelled');
  if (cancelled)
    return {
      status: 'cancelled',
      message: signal.aborted ? String((signal.reason as Error)?.message ?? 'Cancelled') : error.message,
      stack: null,
      engineOutput: error.engineOutput,
    };
  return {
    status: 'failed',
    message: error.message || String(e),
    stack: error instanceof AppError ? null : (error.stack ?? null),
    engineOutput: error.engineOutput,
  };
}

/**
 * How an execution (backup, restore or verify) tells what it does: log lines kept for
 * `metadata.execution_logs`, progress events at most every 400 ms unless forced, and its end.
 */
export function createReporter(ctx: Pick<CoreContext, 'events' | 'clock'>, row: ExecutionRow, startedAt: Date): Reporter {
  const logs: ExecutionLog[] = [];
  const say: Say = (level, message) => {
    logs.push({ at: ctx.clock.now().toISOString(), level, message });
    log[level](`[${row.id}] ${message}`);
  };
  let lastProgress = 0;
  const progress: Progress = (p, force = false) => {
    const now = Date.now();
    if (!force && now - lastProgress < PROGRESS_EVERY_MS) return;
    lastProgress = now;
    const elapsed = ctx.clock.now().getTime() - startedAt.getTime();
    ctx.events.emit('execution.progress', {
      execution_id: row.id,
      job_id: row.job_id,
      elapsed_ms: elapsed,
      throughput_bps: elapsed > 0 ? Math.round((p.bytes_raw * 1000) / elapsed) : 0,
      ...p,
    });
  };
  const ended = (status: ExecutionStatus): Ended => {
    const finished_at = ctx.clock.now();
    return { status, finished_at, duration_seconds: Math.round((finished_at.getTime() - startedAt.getTime()) / 1000) };
  };
  const announce = (status: ExecutionStatus, errorMessage: string | null = null) =>
    ctx.events.emit('execution.status', { execution_id: row.id, job_id: row.job_id, status, error_message: errorMessage });
  return { logs, say, progress, ended, announce };
}
