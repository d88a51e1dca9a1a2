// What the notifications about runs say: one function per situation, so every text is written in one
// place, in human units (sizes in KB/MB/GB, dates in the system's locale and time zone, counts with
// their nouns) and in the datasource's own words (files for a folder, tables and rows for a database).
// The health checks' notifications are written beside their rules (health/).
import { bytes, counted, dateTime, duration } from '../../../shared/format.js';
import type { Operation, ServerBackup } from '../../../shared/schemas/execution.js';
import { holdings } from '../../../shared/words.js';
import type { NewNotification } from './notifier.js';

const OPERATION_LABEL: Record<Operation, string> = { backup: 'Backup', restore: 'Restore', verify: 'Verification', cleanup: 'Cleanup', drill: 'Drill' };

const list = (names: string[]) => (names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`);

export function backupCompleted(a: {
  jobId: string;
  executionId: string;
  datasourceName: string;
  parts: number;
  storedBytes: number;
  storedOn: string[];
  failedCopies: string[];
}): NewNotification {
  const failed = a.failedCopies.length > 0;
  return {
    type: 'backup_success',
    severity: failed ? 'warning' : 'info',
    entity_type: 'backup_job',
    entity_id: a.jobId,
    title: failed ? `Backup of ${a.datasourceName} completed with failed copies` : `Backup of ${a.datasourceName} completed`,
    message: failed
      ? `Stored on ${list(a.storedOn)}; these copies failed: ${a.failedCopies.join('; ')}`
      : `${bytes(a.storedBytes)} in ${counted(a.parts, 'file')} on ${list(a.storedOn)}.`,
    metadata: { execution_id: a.executionId },
  };
}

/**
 * A whole server's backup: how many databases, which failed (a warning: the run is partial), which are new
 * ("Now also backing up sales_2027") and which are gone since the job's last run.
 */
export function serverBackupEnded(a: {
  jobId: string;
  executionId: string;
  datasourceName: string;
  server: ServerBackup;
  storedBytes: number;
  storedOn: string[];
  failedCopies: string[];
}): NewNotification {
  const failed = a.server.databases.filter((d) => d.status === 'failed').map((d) => d.name);
  const done = a.server.databases.length - failed.length;
  const news = [
    ...(a.server.added.length ? [`Now also backing up ${list(a.server.added)}.`] : []),
    ...(a.server.gone.length ? [`No longer on the server or picked: ${list(a.server.gone)}.`] : []),
    ...(a.server.globals.status === 'failed' ? [`The server's roles and grants were not backed up: ${a.server.globals.error}.`] : []),
    ...(a.failedCopies.length ? [`These copies failed: ${a.failedCopies.join('; ')}.`] : []),
  ];
  const partial = failed.length > 0 || a.server.globals.status === 'failed';
  return {
    type: partial ? 'backup_failed' : 'backup_success',
    severity: partial || a.failedCopies.length ? 'warning' : 'info',
    entity_type: 'backup_job',
    entity_id: a.jobId,
    title: failed.length
      ? `Backup of ${a.datasourceName}: ${failed.length} of ${counted(a.server.databases.length, 'database')} failed (${list(failed)})`
      : `Backup of ${a.datasourceName} completed: ${counted(done, 'database')}`,
    message: [`${bytes(a.storedBytes)} on ${list(a.storedOn)}.`, ...news].join(' '),
    metadata: { execution_id: a.executionId },
  };
}

export function backupFailed(a: { jobId: string | null; jobName: string | null; executionId: string; message: string }): NewNotification {
  return {
    type: 'backup_failed',
    severity: 'critical',
    entity_type: 'backup_job',
    entity_id: a.jobId ?? a.executionId,
    title: `Backup ${a.jobName ? `“${a.jobName}” ` : ''}failed`,
    message: a.message,
    metadata: { execution_id: a.executionId },
  };
}

/** Any run that failed before it could say so itself (an unexpected error). */
export function runFailed(a: { operation: Operation; jobId: string | null; executionId: string; message: string }): NewNotification {
  return {
    type: 'backup_failed',
    severity: 'critical',
    entity_type: a.jobId ? 'backup_job' : 'system',
    entity_id: a.jobId ?? a.executionId,
    title: `${OPERATION_LABEL[a.operation]} failed`,
    message: a.message,
    metadata: { execution_id: a.executionId, operation: a.operation },
  };
}

export function restoreCompleted(a: {
  datasourceId: string;
  datasourceName: string;
  datasourceType: string;
  target: string;
  backupTakenAt: Date;
  executionId: string;
  sourceExecutionId: string;
  summary: { tables: number; rows: number; estimated?: boolean };
}): NewNotification {
  return {
    type: 'restore_completed',
    severity: 'info',
    entity_type: 'datasource',
    entity_id: a.datasourceId,
    title: `Restore of ${a.datasourceName} completed`,
    message: `${a.target.charAt(0).toUpperCase()}${a.target.slice(1)} now holds the backup of ${dateTime(a.backupTakenAt)} (${holdings(a.datasourceType, a.summary)}).`,
    metadata: { execution_id: a.executionId, source_execution_id: a.sourceExecutionId },
  };
}

export function restoreFailed(a: { datasourceId: string | null; executionId: string; target: string; message: string; touched: boolean }): NewNotification {
  return {
    type: 'backup_failed',
    severity: 'critical',
    entity_type: 'datasource',
    entity_id: a.datasourceId ?? a.executionId,
    title: `Restore into ${a.target} failed`,
    message: a.message,
    metadata: { execution_id: a.executionId, operation: 'restore', target_touched: a.touched },
  };
}

export function restoredByHand(a: {
  datasourceId: string | null;
  datasourceName: string | null;
  executionId: string;
  backupTakenAt: Date;
  restoredAt: string;
  by: string | null;
  reason: string | null;
}): NewNotification {
  return {
    type: 'restore_completed',
    severity: 'info',
    entity_type: a.datasourceId ? 'datasource' : 'system',
    entity_id: a.datasourceId ?? a.executionId,
    title: `${a.datasourceName ?? 'A datasource'} was restored by hand`,
    message: `From the backup of ${dateTime(a.backupTakenAt)}${a.by ? `, by ${a.by}` : ''}${a.reason ? `: ${a.reason}` : ''}`,
    metadata: { execution_id: a.executionId, restored_at: a.restoredAt, restored_by: a.by, reason: a.reason, manual: true },
  };
}

export function verifyFailed(a: {
  jobId: string | null;
  executionId: string;
  sourceExecutionId: string;
  jobName: string | null;
  backupTakenAt: Date | null;
  method: 'checksum' | 'restore-test';
  message: string;
}): NewNotification {
  const backup = `The backup${a.jobName ? ` of “${a.jobName}”` : ''}${a.backupTakenAt ? ` from ${dateTime(a.backupTakenAt)}` : ''}`;
  return {
    type: 'backup_failed',
    severity: 'critical',
    entity_type: a.jobId ? 'backup_job' : 'system',
    entity_id: a.jobId ?? a.executionId,
    title: `${backup} failed its ${a.method === 'checksum' ? 'checksum verification' : 'test restore'}`,
    message: a.message,
    metadata: { execution_id: a.executionId, source_execution_id: a.sourceExecutionId, operation: 'verify' },
  };
}

export function cleanupCompleted(a: {
  jobId: string;
  jobName: string;
  executionId: string;
  deleted: string[];
  bytesFreed: number;
  kept: number;
  failures: string[];
}): NewNotification {
  const deleted = counted(a.deleted.length, 'old backup');
  return {
    type: 'cleanup_completed',
    severity: a.failures.length ? 'warning' : 'info',
    entity_type: 'backup_job',
    entity_id: a.jobId,
    title: a.failures.length ? `Cleanup of ${a.jobName} could not delete every copy` : `Cleanup of ${a.jobName}: ${deleted} deleted`,
    message: a.failures.length
      ? `${deleted} deleted, ${bytes(a.bytesFreed)} freed; these failed and will be retried: ${a.failures.join('; ')}`
      : `${bytes(a.bytesFreed)} freed; ${counted(a.kept, 'backup')} kept.`,
    metadata: { execution_id: a.executionId, deleted: a.deleted, bytes_freed: a.bytesFreed },
  };
}

/** A drill that failed: the phase and the copy it names ("checksums: part-002 on Backblaze: checksum mismatch"). Critical: a backup may not restore. */
export function drillFailed(a: {
  jobId: string | null;
  executionId: string;
  jobName: string | null;
  backupTakenAt: Date | null;
  message: string;
}): NewNotification {
  const backup = `The backup${a.jobName ? ` of “${a.jobName}”` : ''}${a.backupTakenAt ? ` from ${dateTime(a.backupTakenAt)}` : ''}`;
  return {
    type: 'backup_failed',
    severity: 'critical',
    entity_type: a.jobId ? 'backup_job' : 'system',
    entity_id: a.jobId ?? a.executionId,
    title: `${backup} failed its drill`,
    message: a.message,
    metadata: { execution_id: a.executionId, operation: 'drill' },
  };
}

/** A drill's restore took over half as long again as the last one: the day a restore is needed, it will take that long. */
export function drillSlower(a: {
  jobId: string | null;
  executionId: string;
  jobName: string | null;
  rtoSeconds: number;
  previousSeconds: number;
}): NewNotification {
  return {
    type: 'health_degraded',
    severity: 'warning',
    entity_type: a.jobId ? 'backup_job' : 'system',
    entity_id: a.jobId ?? a.executionId,
    title: `A full restore${a.jobName ? ` of “${a.jobName}”` : ''} got slower`,
    message: `The drill's restore took ${duration(a.rtoSeconds)}, against ${duration(a.previousSeconds)} the last time`,
    metadata: { execution_id: a.executionId, operation: 'drill' },
  };
}
