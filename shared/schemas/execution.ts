import { z } from 'zod';
import { isoDate, uuid } from './common.js';
import { executionStatus } from './enums.js';

export const OPERATIONS = ['backup', 'restore', 'verify'] as const;
export const COPY_STATUSES = ['pending', 'completed', 'failed', 'skipped'] as const;
export const STAGES = ['queued', 'connecting', 'dump', 'upload', 'replicate', 'finishing', 'download', 'safety_backup', 'restore', 'check'] as const;

/** One copy of a backup on one storage (a job may write to several). */
export const backupCopy = z.object({
  storage_location_id: uuid,
  storage_name: z.string(),
  storage_type: z.string(),
  status: z.enum(COPY_STATUSES),
  backup_path: z.string().nullable(),
  error_message: z.string().nullable(),
});
export type BackupCopy = z.output<typeof backupCopy>;

export const backupChunk = z.object({
  chunk_number: z.number().int(),
  file_path: z.string(),
  size_bytes: z.number(),
  checksum: z.string(),
});

export const executionLog = z.object({ at: isoDate, level: z.enum(['info', 'warn', 'error']), message: z.string() });
export type ExecutionLog = z.output<typeof executionLog>;

export const execution = z.object({
  id: uuid,
  /** Null when the job or datasource was deleted since, or for a backup imported from storage. */
  job_id: uuid.nullable(),
  job_name: z.string().nullable(),
  datasource_id: uuid.nullable(),
  datasource_name: z.string().nullable(),
  datasource_type: z.string().nullable(),
  storage_location_id: uuid,
  operation: z.enum(OPERATIONS),
  status: executionStatus,
  started_at: isoDate.nullable(),
  finished_at: isoDate.nullable(),
  duration_seconds: z.number().int().nullable(),
  size_bytes: z.number().nullable(),
  compressed_size_bytes: z.number().nullable(),
  backup_path: z.string().nullable(),
  backup_type: z.enum(['full', 'incremental', 'differential']),
  files_count: z.number().int().nullable(),
  error_message: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  created_at: isoDate,
  copies: z.array(backupCopy),
});
export type Execution = z.output<typeof execution>;

export const executionDetails = execution.extend({
  chunks: z.array(backupChunk),
  error_stack: z.string().nullable(),
});
export type ExecutionDetails = z.output<typeof executionDetails>;

const limit = z.coerce.number().int().min(1).max(500).default(50);

/** `GET /api/backup-jobs/:id/executions?status=&limit=` (seed). */
export const jobExecutionsInput = z.object({ id: uuid, status: executionStatus.optional(), limit });
export const executionsListInput = z.object({ job_id: uuid.optional(), status: executionStatus.optional(), limit });

export const runStarted = z.object({ execution_id: uuid, status: executionStatus });

export const executionProgress = z.object({
  execution_id: uuid,
  job_id: uuid.nullable(),
  stage: z.enum(STAGES),
  /** Bytes read from the database or folder. */
  bytes_raw: z.number(),
  /** Bytes written to storage after compression. */
  bytes_stored: z.number(),
  /** Raw bytes per second over the run so far. */
  throughput_bps: z.number(),
  elapsed_ms: z.number(),
  /** When the source's size is known (approximate for databases). */
  total_raw_estimate: z.number().nullable(),
});
export type ExecutionProgress = z.output<typeof executionProgress>;

export const executionStatusEvent = z.object({ execution_id: uuid, job_id: uuid.nullable(), status: executionStatus, error_message: z.string().nullable() });

export const exportInput = z.object({ id: uuid, destination_path: z.string().trim().min(1, { message: 'Choose where to save the file' }) });
