import { EntitySchema } from 'typeorm';
import type { DrillPick } from '../../../shared/schemas/drill.js';
import type { Operation } from '../../../shared/schemas/execution.js';
import type {
  CatchUpPolicy,
  DatasourceStatus,
  DatasourceType,
  ExecutionStatus,
  ExecutionTrigger,
  HealthCheckStatus,
  StorageStatus,
  StorageStrategy,
  StorageType,
} from '../../../shared/schemas/enums.js';
import type { InstanceId } from '../kernel/instance.js';

// Rows as stored: column names are the seed's, so a row maps to an API answer field by field.
// Configs hold secrets encrypted (see core/secrets.ts). No decorators: explicit schemas bundle cleanly.

export interface DatasourceRow {
  id: string;
  name: string;
  type: DatasourceType;
  connection_config: Record<string, unknown>;
  status: DatasourceStatus;
  last_health_check_at: Date | null;
  enabled: boolean;
  tags: string[];
  created_at: Date;
  updated_at: Date;
}

export interface StorageRow {
  id: string;
  name: string;
  type: StorageType;
  config: Record<string, unknown>;
  is_default: boolean;
  available_space_gb: string | null;
  status: StorageStatus;
  created_at: Date;
  updated_at: Date;
}

export interface JobRow {
  id: string;
  name: string;
  datasource_id: string;
  storage_location_id: string;
  storage_strategy: StorageStrategy;
  schedule_cron: string;
  schedule_timezone: string;
  enabled: boolean;
  catch_up: CatchUpPolicy;
  max_retries: number;
  retry_delay_minutes: number;
  jitter_minutes: number;
  retention_policy: Record<string, unknown>;
  backup_options: Record<string, unknown>;
  last_execution_at: Date | null;
  next_execution_at: Date | null;
  /** Drills (issue 21): null = none scheduled. */
  drill_cron: string | null;
  drill_pick: DrillPick;
  drill_assertions: string[];
  next_drill_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface JobStorageRow {
  job_id: string;
  storage_location_id: string;
  position: number;
}

export interface ExecutionRow {
  id: string;
  /** Null once the job or datasource is deleted, or for a backup imported from storage. */
  job_id: string | null;
  datasource_id: string | null;
  storage_location_id: string;
  /** What this execution is; its `metadata` has the shape this names (see metadata.ts). */
  operation: Operation;
  status: ExecutionStatus;
  trigger: ExecutionTrigger;
  /** The schedule slot this run is for; with `attempt`, unique per job. */
  scheduled_for: Date | null;
  attempt: number;
  retry_of: string | null;
  started_at: Date | null;
  finished_at: Date | null;
  duration_seconds: number | null;
  size_bytes: string | null;
  compressed_size_bytes: string | null;
  backup_path: string | null;
  backup_type: 'full' | 'incremental' | 'differential';
  files_count: number | null;
  error_message: string | null;
  error_stack: string | null;
  /**
   * Read and written only through metadata.ts (a zod union by `operation`). Typed `object` because
   * TypeORM's update typing refuses a record whose values may be null.
   */
  metadata: object | null;
  /** The run's lease: refreshed while it runs (by the metadata database's clock); a stale one means its process died. */
  heartbeat_at: Date | null;
  /** The process that claimed the run (kernel/instance.ts): on this machine, its death is seen at once. */
  instance: InstanceId | null;
  /** A backup whose files retention or a user removed: the run stays, as history. */
  deleted_at: Date | null;
  /** The cleanup run that removed them. */
  deleted_by: string | null;
  /** Pinned by the user: retention never deletes it (with the user's reason, possibly empty). */
  pinned_at: Date | null;
  pin_reason: string | null;
  created_at: Date;
}

export interface ChunkRow {
  id: string;
  execution_id: string;
  chunk_number: number;
  file_path: string;
  size_bytes: string;
  checksum: string;
  created_at: Date;
}

export interface HealthCheckRow {
  id: string;
  datasource_id: string;
  checked_at: Date;
  status: HealthCheckStatus;
  latency_ms: number | null;
  error_message: string | null;
  metadata: Record<string, unknown> | null;
}

export interface NotificationRow {
  id: string;
  type: string;
  severity: 'info' | 'warning' | 'critical';
  entity_type: 'datasource' | 'backup_job' | 'storage_location' | 'system';
  entity_id: string;
  title: string;
  message: string;
  metadata: Record<string, unknown> | null;
  read_at: Date | null;
  created_at: Date;
}

export interface CopyRow {
  execution_id: string;
  storage_location_id: string;
  status: 'pending' | 'completed' | 'failed' | 'skipped';
  backup_path: string | null;
  error_message: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface EncryptionKeyRow {
  /** The age public key (age1…). */
  recipient: string;
  role: 'app' | 'recovery' | 'extra';
  label: string | null;
  /** The app key's identity, sealed by the secret box; null for the others, and for an app key deleted (write-only). */
  sealed_identity: string | null;
  /** New backups are encrypted to the active keys; a retired one is kept for the backups that name it. */
  active: boolean;
  created_at: Date;
  retired_at: Date | null;
}

export interface SettingRow {
  key: string;
  value: unknown;
  description: string | null;
  updated_at: Date;
}

const id = { type: 'uuid', primary: true, generated: 'uuid' } as const;
const createdAt = { type: 'timestamptz', createDate: true } as const;
const updatedAt = { type: 'timestamptz', updateDate: true } as const;
const json = (nullable = false) => ({ type: 'jsonb', nullable }) as const;
const enumOf = (enumName: string) => ({ type: 'enum', enumName }) as const;
const ts = { type: 'timestamptz', nullable: true } as const;

export const Datasources = new EntitySchema<DatasourceRow>({
  name: 'datasources',
  columns: {
    id,
    name: { type: 'varchar', length: 255 },
    type: enumOf('datasource_type'),
    connection_config: json(),
    status: enumOf('datasource_status'),
    last_health_check_at: ts,
    enabled: { type: 'boolean' },
    tags: { type: 'text', array: true },
    created_at: createdAt,
    updated_at: updatedAt,
  },
});

export const StorageLocations = new EntitySchema<StorageRow>({
  name: 'storage_locations',
  columns: {
    id,
    name: { type: 'varchar', length: 255 },
    type: enumOf('storage_location_type'),
    config: json(),
    is_default: { type: 'boolean' },
    available_space_gb: { type: 'decimal', precision: 10, scale: 2, nullable: true },
    status: enumOf('storage_location_status'),
    created_at: createdAt,
    updated_at: updatedAt,
  },
});

export const BackupJobs = new EntitySchema<JobRow>({
  name: 'backup_jobs',
  columns: {
    id,
    name: { type: 'varchar', length: 255 },
    datasource_id: { type: 'uuid' },
    storage_location_id: { type: 'uuid' },
    storage_strategy: enumOf('storage_strategy'),
    schedule_cron: { type: 'varchar', length: 100 },
    schedule_timezone: { type: 'varchar', length: 50 },
    enabled: { type: 'boolean' },
    catch_up: enumOf('catch_up_policy'),
    max_retries: { type: 'smallint' },
    retry_delay_minutes: { type: 'smallint' },
    jitter_minutes: { type: 'smallint' },
    retention_policy: json(),
    backup_options: json(),
    last_execution_at: ts,
    next_execution_at: ts,
    drill_cron: { type: 'varchar', length: 100, nullable: true },
    drill_pick: { type: 'varchar', length: 10 },
    drill_assertions: json(),
    next_drill_at: ts,
    created_at: createdAt,
    updated_at: updatedAt,
  },
});

export const BackupJobStorages = new EntitySchema<JobStorageRow>({
  name: 'backup_job_storages',
  columns: {
    job_id: { type: 'uuid', primary: true },
    storage_location_id: { type: 'uuid', primary: true },
    position: { type: 'int' },
  },
});

export const BackupExecutions = new EntitySchema<ExecutionRow>({
  name: 'backup_executions',
  columns: {
    id,
    job_id: { type: 'uuid', nullable: true },
    datasource_id: { type: 'uuid', nullable: true },
    storage_location_id: { type: 'uuid' },
    operation: enumOf('execution_operation'),
    status: enumOf('execution_status'),
    trigger: enumOf('execution_trigger'),
    scheduled_for: ts,
    attempt: { type: 'smallint' },
    retry_of: { type: 'uuid', nullable: true },
    started_at: ts,
    finished_at: ts,
    duration_seconds: { type: 'int', nullable: true },
    size_bytes: { type: 'bigint', nullable: true },
    compressed_size_bytes: { type: 'bigint', nullable: true },
    backup_path: { type: 'text', nullable: true },
    backup_type: enumOf('backup_type'),
    files_count: { type: 'int', nullable: true },
    error_message: { type: 'text', nullable: true },
    error_stack: { type: 'text', nullable: true },
    metadata: json(true),
    heartbeat_at: ts,
    instance: json(true),
    deleted_at: ts,
    deleted_by: { type: 'uuid', nullable: true },
    pinned_at: ts,
    pin_reason: { type: 'text', nullable: true },
    created_at: createdAt,
  },
});

export const BackupChunks = new EntitySchema<ChunkRow>({
  name: 'backup_chunks',
  columns: {
    id,
    execution_id: { type: 'uuid' },
    chunk_number: { type: 'int' },
    file_path: { type: 'text' },
    size_bytes: { type: 'bigint' },
    checksum: { type: 'varchar', length: 64 },
    created_at: createdAt,
  },
});

export const BackupCopies = new EntitySchema<CopyRow>({
  name: 'backup_copies',
  columns: {
    execution_id: { type: 'uuid', primary: true },
    storage_location_id: { type: 'uuid', primary: true },
    status: enumOf('backup_copy_status'),
    backup_path: { type: 'text', nullable: true },
    error_message: { type: 'text', nullable: true },
    created_at: createdAt,
    updated_at: updatedAt,
  },
});

export const HealthChecks = new EntitySchema<HealthCheckRow>({
  name: 'health_checks',
  columns: {
    id,
    datasource_id: { type: 'uuid' },
    checked_at: { type: 'timestamptz', createDate: true },
    status: enumOf('health_check_status'),
    latency_ms: { type: 'int', nullable: true },
    error_message: { type: 'text', nullable: true },
    metadata: json(true),
  },
});

export const Notifications = new EntitySchema<NotificationRow>({
  name: 'notifications',
  columns: {
    id,
    type: enumOf('notification_type'),
    severity: enumOf('notification_severity'),
    entity_type: enumOf('notification_entity_type'),
    entity_id: { type: 'uuid' },
    title: { type: 'varchar', length: 255 },
    message: { type: 'text' },
    metadata: json(true),
    read_at: ts,
    created_at: createdAt,
  },
});

export const SystemSettings = new EntitySchema<SettingRow>({
  name: 'system_settings',
  columns: {
    key: { type: 'varchar', length: 100, primary: true },
    value: json(),
    description: { type: 'text', nullable: true },
    updated_at: updatedAt,
  },
});

export const EncryptionKeys = new EntitySchema<EncryptionKeyRow>({
  name: 'encryption_keys',
  columns: {
    recipient: { type: 'varchar', length: 100, primary: true },
    role: { type: 'varchar', length: 16 },
    label: { type: 'varchar', length: 255, nullable: true },
    sealed_identity: { type: 'text', nullable: true },
    active: { type: 'boolean' },
    created_at: createdAt,
    retired_at: ts,
  },
});

export const ENTITIES = [
  Datasources,
  StorageLocations,
  BackupJobs,
  BackupJobStorages,
  BackupExecutions,
  BackupChunks,
  BackupCopies,
  HealthChecks,
  Notifications,
  SystemSettings,
  EncryptionKeys,
];
