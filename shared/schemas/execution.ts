import { z } from 'zod';
import { isoDate, uuid } from './common.js';
import { backupEncryption, identityInput } from './encryption.js';
import { tocReference } from './toc.js';
import { drillRun, recordedContent } from './drill.js';
import { compression, executionStatus, executionTrigger } from './enums.js';

export const OPERATIONS = ['backup', 'restore', 'verify', 'cleanup', 'drill'] as const;
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

export const backupChunk = z.object({
  chunk_number: z.number().int(),
  file_path: z.string(),
  size_bytes: z.number(),
  checksum: z.string(),
});

export const executionLog = z.object({ at: isoDate, level: z.enum(['info', 'warn', 'error']), message: z.string() });
export type ExecutionLog = z.output<typeof executionLog>;

/** The outcome of the last verification, kept on the backup (`metadata.verification`). */
export const verification = z.object({
  execution_id: uuid,
  method: z.enum(['checksum', 'restore-test']),
  at: isoDate,
  ok: z.boolean(),
  message: z.string(),
  tables: z.number().nullable(),
  rows: z.number().nullable(),
  copies: z.array(z.object({ storage_name: z.string(), ok: z.boolean(), error: z.string().nullable() })),
});
export type Verification = z.output<typeof verification>;

/** What every execution keeps: its log, its tool's output, and names as they were (the history still reads after a delete). */
const recorded = {
  execution_logs: z.array(executionLog).default([]),
  engine_output: z.string().optional(),
  job_name: z.string().nullish(),
  datasource_name: z.string().nullish(),
  datasource_type: z.string().nullish(),
};

/** What a backup's engine tells about its source; kept in the catalog and in manifest.json. */
export const sourceInfo = z.object({
  database_version: z.string().optional(),
  tables_backed_up: z.number().optional(),
  rows_approximate: z.number().optional(),
  /** mysql/mariadb: the database's defaults, so a restore into a new database keeps them. */
  database_charset: z.string().optional(),
  database_collation: z.string().optional(),
  files_count: z.number().optional(),
  /** postgres: pg_dump's format; `directory` (stored as a tar of pg_dump's folder) when the job runs parallel jobs. */
  dump_format: z.enum(['custom', 'directory']).optional(),
  /** Row counts per table, folder bytes and file hashes: what a drill checks a restore against. */
  ...recordedContent,
});

export type SourceInfo = z.output<typeof sourceInfo>;

/** One database of a whole server's backup: its own artifact (`shop.dump.zst`), parts and checksum. */
export const serverDatabaseBackup = z.object({
  name: z.string(),
  /** Its artifact's file name in the backup's folder, made safe for any storage: the manifest maps it back to the name. */
  artifact: z.string(),
  status: z.enum(['completed', 'failed']),
  error: z.string().nullable(),
  size_bytes: z.number(),
  compressed_size_bytes: z.number(),
  checksum: z.string().nullable(),
  parts: z.number(),
  duration_ms: z.number(),
  source: sourceInfo,
});
export type ServerDatabaseBackup = z.output<typeof serverDatabaseBackup>;

/** A whole server's backup (`metadata.server`): each database, the globals, and what changed since the job's last run. */
export const serverBackup = z.object({
  databases: z.array(serverDatabaseBackup),
  /** The roles, memberships and grants (globals.sql): the top-level artifact of the backup. */
  globals: z.object({ artifact: z.string(), status: z.enum(['completed', 'failed']), error: z.string().nullable(), notes: z.array(z.string()) }),
  /** Databases backed up for the first time by this job ("Now also backing up sales_2027"). */
  added: z.array(z.string()),
  /** Databases the job's last run had and this one does not (dropped, renamed or no longer picked). */
  gone: z.array(z.string()),
  parallel_databases: z.number(),
});
export type ServerBackup = z.output<typeof serverBackup>;

export const backupMetadata = z.object({
  operation: z.literal('backup'),
  ...recorded,
  ...sourceInfo.shape,
  /** The restore this safety backup was taken for. */
  safety_for: uuid.optional(),
  /** A whole server's safety backup: only the databases the restore replaces. */
  only_databases: z.array(z.string()).optional(),
  artifact: z.string().optional(),
  compression: compression.optional(),
  compression_level: z.number().nullish(),
  compression_ratio: z.number().nullish(),
  checksum: z.string().optional(),
  /** age-encrypted, and to which public keys (the Backups tab's lock and fingerprints). */
  encryption: backupEncryption.optional(),
  /** The table of contents stored beside the parts (browse, take one thing out); absent before them. */
  toc: tocReference.optional(),
  /** Copies that failed while the backup itself completed. */
  warnings: z.array(z.string()).optional(),
  /** A whole server's backup: one artifact per database plus the globals. */
  server: serverBackup.optional(),
  verification: verification.optional(),
  imported_from: z.string().optional(),
  imported_at: isoDate.optional(),
  /** An imported backup whose datasource is not configured here is grouped under the id it had where it was made. */
  original_datasource_id: uuid.nullish(),
});

/** A restore's request (what it was asked) and, once it ran, what it did. */
export const restoreMetadata = z.object({
  operation: z.literal('restore'),
  ...recorded,
  source_execution_id: uuid,
  storage_location_id: uuid.nullable(),
  target_database: z.string().nullable(),
  target_path: z.string().nullable(),
  safety_backup: z.boolean(),
  overwrite: z.boolean(),
  target: z.string().optional(),
  target_touched: z.boolean().optional(),
  restored_from: z.object({ storage_location_id: uuid, storage_name: z.string() }).optional(),
  safety_execution_id: uuid.nullish(),
  tables_restored: z.number().optional(),
  rows_restored: z.number().optional(),
  previous_file: z.string().nullish(),
  /** files: only these paths of the backup were asked for. */
  paths: z.array(z.string()).optional(),
  /** Databases: only these tables of the backup were asked for. */
  tables: z.array(z.string()).optional(),
  /** What a restore of chosen tables left out, and why ("orders_customer_id_fkey → public.customers was not restored: …"). */
  left_out: z.array(z.string()).optional(),
  /** A whole server's backup: which of its databases, each under which name on the target (the same, or a new one). */
  databases: z.array(z.object({ name: z.string(), target: z.string() })).optional(),
  /** The server's roles and grants replayed first. */
  globals: z.boolean().optional(),
  /** How each database's restore went. */
  databases_restored: z
    .array(
      z.object({
        name: z.string(),
        target: z.string(),
        ok: z.boolean(),
        error: z.string().nullable(),
        tables: z.number().nullable(),
        rows: z.number().nullable(),
      }),
    )
    .optional(),
});

export const verifyMetadata = z.object({
  operation: z.literal('verify'),
  ...recorded,
  source_execution_id: uuid,
  method: verification.shape.method,
  verification: verification.optional(),
});

/** One backup retention removed (or, with auto_delete off, would remove). */
export const cleanedBackup = z.object({
  execution_id: uuid,
  started_at: isoDate,
  /** Why it went: the rule it fell outside of. */
  reason: z.string(),
  bytes: z.number(),
  storages: z.array(z.string()),
});

/** A retention run over one job (or the backups a user chose to delete): once it ran, what went. */
export const cleanupMetadata = z.object({
  operation: z.literal('cleanup'),
  ...recorded,
  /** Deleted by hand: these backups, whatever the job's rule says. Absent: the job's retention rule. */
  backup_ids: z.array(uuid).optional(),
  deleted: z.array(cleanedBackup).optional(),
  /** auto_delete off: what the rule would have removed. */
  would_delete: z.array(cleanedBackup).optional(),
  kept: z.number().optional(),
  bytes_freed: z.number().optional(),
});

/** A drill (schema in drill.ts): one backup restored into a scratch target and checked; `verification` is what it left on the backup. */
export const drillMetadata = z.object({ operation: z.literal('drill'), ...recorded, ...drillRun, verification: verification.optional() });

/** An execution's `metadata`, by its kind (the `operation` column). */
export const executionMetadata = z.discriminatedUnion('operation', [backupMetadata, restoreMetadata, verifyMetadata, cleanupMetadata, drillMetadata]);
export type ExecutionMetadata = z.output<typeof executionMetadata>;
export type BackupMetadata = z.output<typeof backupMetadata>;
export type RestoreMetadata = z.output<typeof restoreMetadata>;
export type VerifyMetadata = z.output<typeof verifyMetadata>;
export type CleanupMetadata = z.output<typeof cleanupMetadata>;
export type DrillMetadata = z.output<typeof drillMetadata>;
export type CleanedBackup = z.output<typeof cleanedBackup>;
export type Operation = ExecutionMetadata['operation'];

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
  /** manual (Run now, restore, verify, delete), schedule, catch_up (a slot missed while the app was away), retry, or after_backup (a backup's follow-up). */
  trigger: executionTrigger,
  /** The schedule slot this run is for (null for a manual one). */
  scheduled_for: isoDate.nullable(),
  /** 1 for a first run; a retry counts on from the run it retries. */
  attempt: z.number().int(),
  /** The first run of the slot this one retries. */
  retry_of: uuid.nullable(),
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
  /** A backup whose files were removed: its run stays as history. */
  deleted_at: isoDate.nullable(),
  /** Who removed them: the job's retention, or a user (a delete by hand); and the cleanup run that did. */
  deleted_by: z.object({ by: z.enum(['retention', 'user']), execution_id: uuid }).nullable(),
  /** A backup the user pinned, which retention never deletes: when, and the user's reason ("" when none was given). */
  pin: z.object({ at: isoDate, reason: z.string() }).nullable(),
});
export type Execution = z.output<typeof execution>;

export const executionDetails = execution.extend({
  chunks: z.array(backupChunk),
  error_stack: z.string().nullable(),
});
export type ExecutionDetails = z.output<typeof executionDetails>;

const limit = z.coerce.number().int().min(1).max(500).default(50);

/** The next page: the executions older than this one (the last row of the page shown), newest first. */
export const before = uuid.optional();

/** `GET /api/backup-jobs/:id/executions?status=&limit=&before=` (seed). */
export const jobExecutionsInput = z.object({ id: uuid, status: executionStatus.optional(), limit, before });
export const executionsListInput = z.object({ job_id: uuid.optional(), status: executionStatus.optional(), limit, before });

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

export const exportInput = z.object({
  id: uuid,
  destination_path: z.string().trim().min(1, { message: 'Choose where to save the file' }),
  /** Write an encrypted backup decrypted, with the app's key or `identity` (for this export only). */
  decrypt: z.boolean().default(false),
  identity: identityInput.optional(),
});
