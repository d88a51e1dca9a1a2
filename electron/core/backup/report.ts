import type { ExecutionLog, ExecutionProgress } from '../../../shared/schemas/execution.js';
import type { ExecutionRow } from '../db/entities.js';
import { scoped } from '../log.js';
import type { ServiceContext } from '../services/context.js';

const log = scoped('execution');
const PROGRESS_EVERY_MS = 400;

export type Say = (level: ExecutionLog['level'], message: string) => void;
export type Progress = (p: Omit<ExecutionProgress, 'execution_id' | 'job_id' | 'elapsed_ms' | 'throughput_bps'>, force?: boolean) => void;

/**
 * How an execution (backup, restore or verify) tells what it does: log lines kept for
 * `metadata.execution_logs`, and progress events at most every 400 ms unless forced.
 */
export function createReporter(ctx: Pick<ServiceContext, 'events'>, row: ExecutionRow, startedAt: Date): { logs: ExecutionLog[]; say: Say; progress: Progress } {
  const logs: ExecutionLog[] = [];
  const say: Say = (level, message) => {
    logs.push({ at: new Date().toISOString(), level, message });
    log[level](`[${row.id}] ${message}`);
  };
  let lastProgress = 0;
  const progress: Progress = (p, force = false) => {
    const now = Date.now();
    if (!force && now - lastProgress < PROGRESS_EVERY_MS) return;
    lastProgress = now;
    const elapsed = now - startedAt.getTime();
    ctx.events.emit('execution.progress', {
      execution_id: row.id,
      job_id: row.job_id,
      elapsed_ms: elapsed,
      throughput_bps: elapsed > 0 ? Math.round((p.bytes_raw * 1000) / elapsed) : 0,
      ...p,
    });
  };
  return { logs, say, progress };
}
