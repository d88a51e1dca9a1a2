import { z } from 'zod';

// The seed's enums (database-schema.md, database-summary.md), in one place.
export const DATASOURCE_TYPES = ['postgres', 'mysql', 'mariadb', 'mongodb', 'sqlserver', 'sqlite', 'files'] as const;
export const DATASOURCE_STATUSES = ['healthy', 'warning', 'critical', 'unknown'] as const;
export const STORAGE_TYPES = ['local', 's3', 'ssh', 'minio', 'backblaze'] as const;
export const STORAGE_STATUSES = ['healthy', 'full', 'unreachable'] as const;
/** `partial`: a whole server's backup where some databases failed; the others are complete backups. */
export const EXECUTION_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled', 'skipped', 'partial'] as const;
/**
 * Why an execution ran: a click (Run now, Restore, Verify, Delete), its schedule (a slot, the daily
 * cleanup), a slot missed while the app was away, a retry of a failed run, or a backup it follows (the
 * verification and cleanup a job asks for after each backup).
 */
export const EXECUTION_TRIGGERS = ['manual', 'schedule', 'catch_up', 'retry', 'after_backup'] as const;
/** What a job does about slots missed while the app was closed or asleep: one run when it is back, or none. */
export const CATCH_UP_POLICIES = ['once', 'skip'] as const;
export const HEALTH_CHECK_STATUSES = ['ok', 'timeout', 'auth_failed', 'unreachable', 'error'] as const;
export const NOTIFICATION_TYPES = [
  'backup_success',
  'backup_failed',
  'connection_lost',
  'connection_restored',
  'storage_full',
  'storage_unreachable',
  'health_degraded',
  'cleanup_completed',
  'restore_completed',
  /** A job's newest completed backup is older than its schedule allows (health/overdue.ts). */
  'backup_overdue',
  /** A sink (webhook, e-mail, desktop) could not deliver a notification: the failure itself reaches the inbox. */
  'delivery_failed',
] as const;
export const NOTIFICATION_SEVERITIES = ['info', 'warning', 'critical'] as const;
export const NOTIFICATION_ENTITY_TYPES = ['datasource', 'backup_job', 'storage_location', 'system'] as const;
/** Where a kind of notification goes in the app: nowhere but Activity, the inbox, or the inbox and the desktop. */
export const NOTIFICATION_ROUTES = ['off', 'inbox', 'desktop'] as const;
/** Where a notification goes besides the inbox. */
export const NOTIFICATION_SINKS = ['desktop', 'webhook', 'email'] as const;
/** The body a webhook receives: plain JSON, or what Slack's and Discord's incoming webhooks expect. */
export const WEBHOOK_FORMATS = ['json', 'slack', 'discord'] as const;
export const COMPRESSIONS = ['gzip', 'zstd', 'lz4', 'none'] as const;
export const STORAGE_STRATEGIES = ['fallback', 'replicate'] as const;

export const datasourceType = z.enum(DATASOURCE_TYPES);
export const datasourceStatus = z.enum(DATASOURCE_STATUSES);
export const storageType = z.enum(STORAGE_TYPES);
export const storageStatus = z.enum(STORAGE_STATUSES);
export const executionStatus = z.enum(EXECUTION_STATUSES);
export const executionTrigger = z.enum(EXECUTION_TRIGGERS);
export const catchUpPolicy = z.enum(CATCH_UP_POLICIES, { message: 'Catch-up is once or skip' });
export const healthCheckStatus = z.enum(HEALTH_CHECK_STATUSES);
export const notificationSeverity = z.enum(NOTIFICATION_SEVERITIES, { message: 'Severity is info, warning or critical' });
export const notificationRoute = z.enum(NOTIFICATION_ROUTES, { message: 'A route is off, inbox or desktop' });
export const notificationSink = z.enum(NOTIFICATION_SINKS, { message: 'Sink is desktop, webhook or email' });
export const webhookFormat = z.enum(WEBHOOK_FORMATS, { message: 'Webhook format is json, slack or discord' });
export const compression = z.enum(COMPRESSIONS, { message: `Compression must be one of ${COMPRESSIONS.join(', ')}` });
export const storageStrategy = z.enum(STORAGE_STRATEGIES);

export type DatasourceType = z.infer<typeof datasourceType>;
export type DatasourceStatus = z.infer<typeof datasourceStatus>;
export type StorageType = z.infer<typeof storageType>;
export type StorageStatus = z.infer<typeof storageStatus>;
export type ExecutionStatus = z.infer<typeof executionStatus>;
export type ExecutionTrigger = z.infer<typeof executionTrigger>;
export type CatchUpPolicy = z.infer<typeof catchUpPolicy>;
export type HealthCheckStatus = z.infer<typeof healthCheckStatus>;
export type NotificationSeverity = z.infer<typeof notificationSeverity>;
export type NotificationSink = z.infer<typeof notificationSink>;
export type NotificationRoute = z.infer<typeof notificationRoute>;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];
export type WebhookFormat = z.infer<typeof webhookFormat>;
export type Compression = z.infer<typeof compression>;
export type StorageStrategy = z.infer<typeof storageStrategy>;
