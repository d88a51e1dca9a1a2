import { z } from 'zod';
import { cronError, isValidTimezone } from '../cron.js';
import { isoDate, name, uuid } from './common.js';
import { drillAssertion, drillPick, lastDrill } from './drill.js';
import { encryptionMode } from './encryption.js';
import { catchUpPolicy, compression, executionStatus, executionTrigger, storageStrategy } from './enums.js';

export const scheduleCron = z
  .string()
  .trim()
  .superRefine((expr, ctx) => {
    const error = cronError(expr);
    if (error) ctx.addIssue({ code: 'custom', message: error });
  });

export const scheduleTimezone = z.string().trim().refine(isValidTimezone, { message: 'Unknown timezone: use an IANA name such as America/Sao_Paulo or UTC' });

const count = (what: string) =>
  z.coerce
    .number()
    .int({ message: `${what} must be a whole number` })
    .min(0, { message: `${what} cannot be negative` });

/**
 * How many backups a job keeps: the N newest (`max_backups`) and/or restic-style buckets (`keep_daily`,
 * `keep_weekly`, `keep_monthly`, `keep_yearly`, counted in the job's timezone), the tiers overlapping.
 * Whatever they say, the newest backup and `min_keep` backups always stay.
 */
export const retentionPolicy = z
  .object({
    max_backups: count('max_backups').min(1, { message: 'Keep at least one backup' }).optional(),
    keep_daily: count('keep_daily').optional(),
    keep_weekly: count('keep_weekly').optional(),
    keep_monthly: count('keep_monthly').optional(),
    keep_yearly: count('keep_yearly').optional(),
    min_keep: count('min_keep').min(1, { message: 'A job always keeps at least one backup' }).default(1),
    auto_delete: z.boolean().default(true),
  })
  // A rule that keeps nothing would leave only the safety floor; the user surely meant something else.
  .refine((r) => [r.max_backups, r.keep_daily, r.keep_weekly, r.keep_monthly, r.keep_yearly].some((n) => n !== undefined && n > 0), {
    message: 'This rule keeps nothing: set max_backups, or keep_daily/keep_weekly/keep_monthly/keep_yearly above 0',
    // A field that is already wrong says so itself; the rule as a whole is judged once the fields are right.
    when: (payload) => payload.issues.length === 0,
  });
export type RetentionPolicy = z.output<typeof retentionPolicy>;

const LEVELS = { gzip: [1, 9], zstd: [1, 19], lz4: [1, 12], none: [0, 0] } as const;
/** The command-line tools' own defaults (`gzip`, `zstd`, `lz4`: lz4's 1 is its fast mode, 3 and up its slow high-compression mode). */
const DEFAULT_LEVEL = { gzip: 6, zstd: 3, lz4: 1 } as const;

export const VERIFY_MODES = ['none', 'checksum', 'restore-test'] as const;

export const backupOptions = z
  .object({
    compression: compression.default('gzip'),
    compression_level: z.coerce.number().int().optional(),
    parallel_jobs: z.coerce.number().int().min(1, { message: 'At least 1 parallel job' }).max(32).default(1),
    /** A whole server's databases backed up N at a time (1: one after another). */
    parallel_databases: z.coerce
      .number()
      .int()
      .min(1, { message: 'At least 1 database at a time' })
      .max(16, { message: 'At most 16 databases at a time' })
      .default(1),
    include_tables: z.array(z.string().trim().min(1)).default([]),
    exclude_tables: z.array(z.string().trim().min(1)).default([]),
    /** Split the artifact into `.part-NNN` files of at most this size. */
    max_file_size_mb: z.coerce.number().int().min(1, { message: 'Chunks are at least 1 MB' }).optional(),
    verify_after_backup: z.enum(VERIFY_MODES).default('none'),
    /**
     * `age`: the compressed stream is encrypted to the app's key, the recovery key and the extra public keys.
     * Absent on a new job: `age` once encryption is set up, else `none` (the job service decides); absent on a stored job: `none`.
     */
    encryption: encryptionMode.optional(),
  })
  .superRefine((o, ctx) => {
    if (o.compression_level === undefined || o.compression === 'none') return;
    const [min, max] = LEVELS[o.compression];
    if (o.compression_level < min || o.compression_level > max) {
      ctx.addIssue({ code: 'custom', path: ['compression_level'], message: `${o.compression} level must be ${min}–${max}` });
    }
  })
  .transform((o) => ({
    ...o,
    compression_level: o.compression === 'none' ? undefined : (o.compression_level ?? DEFAULT_LEVEL[o.compression]),
  }));

const minutes = (what: string, max: number) =>
  z.coerce
    .number()
    .int({ message: `${what} is a whole number of minutes` })
    .min(0, { message: `${what} cannot be negative` })
    .max(max, { message: `${what} is at most ${max} minutes` });

/** How a job runs by itself, beyond its cron: missed slots, retries of a failed run, a random delay. */
const schedulingFields = {
  catch_up: catchUpPolicy,
  max_retries: z.coerce
    .number()
    .int({ message: 'Retries is a whole number' })
    .min(0, { message: 'Retries cannot be negative' })
    .max(10, { message: 'At most 10 retries' }),
  /** The first retry waits this long; each next one three times longer (5, 15, 45…). */
  retry_delay_minutes: minutes('The wait before a retry', 24 * 60).min(1, { message: 'Wait at least 1 minute before a retry' }),
  /** Each run starts up to this many minutes after its time, so jobs set to the same time do not all start at once. */
  jitter_minutes: minutes('The random delay', 120),
};

const jobFields = {
  name,
  datasource_id: uuid,
  /** The seed's single storage; `storage_location_ids` lists several, in fallback order. */
  storage_location_id: uuid.optional(),
  storage_location_ids: z.array(uuid).optional(),
  storage_strategy: storageStrategy.default('fallback'),
  schedule_cron: scheduleCron,
  schedule_timezone: scheduleTimezone.default('UTC'),
  enabled: z.boolean().default(true),
  catch_up: schedulingFields.catch_up.default('once'),
  max_retries: schedulingFields.max_retries.default(2),
  retry_delay_minutes: schedulingFields.retry_delay_minutes.default(5),
  jitter_minutes: schedulingFields.jitter_minutes.default(0),
  retention_policy: retentionPolicy.default({ max_backups: 3, min_keep: 1, auto_delete: true }),
  // prefault: the default is parsed like an input, so it gets every field's default and level.
  backup_options: backupOptions.prefault({}),
  drill_cron: scheduleCron.nullable().default(null),
  drill_pick: drillPick.default('latest'),
  drill_assertions: z.array(drillAssertion).max(50).default([]),
};

function storagesOf(v: { storage_location_id?: string; storage_location_ids?: string[] }): string[] | undefined {
  const ids = v.storage_location_ids ?? (v.storage_location_id ? [v.storage_location_id] : undefined);
  return ids ? [...new Set(ids)] : undefined;
}

export const jobCreate = z
  .object(jobFields)
  .refine((v) => (storagesOf(v)?.length ?? 0) > 0, {
    path: ['storage_location_ids'],
    message: 'Choose at least one storage',
  })
  .transform(({ storage_location_id: _single, ...v }) => ({
    ...v,
    storage_location_ids: storagesOf({ ...(_single && { storage_location_id: _single }), ...v })!,
  }));

export const jobUpdate = z
  .object({
    id: uuid,
    name: name.optional(),
    datasource_id: uuid.optional(),
    storage_location_id: uuid.optional(),
    storage_location_ids: z.array(uuid).min(1, { message: 'Choose at least one storage' }).optional(),
    storage_strategy: storageStrategy.optional(),
    schedule_cron: scheduleCron.optional(),
    schedule_timezone: scheduleTimezone.optional(),
    enabled: z.boolean().optional(),
    catch_up: schedulingFields.catch_up.optional(),
    max_retries: schedulingFields.max_retries.optional(),
    retry_delay_minutes: schedulingFields.retry_delay_minutes.optional(),
    jitter_minutes: schedulingFields.jitter_minutes.optional(),
    retention_policy: retentionPolicy.optional(),
    backup_options: backupOptions.optional(),
    drill_cron: scheduleCron.nullable().optional(),
    drill_pick: drillPick.optional(),
    drill_assertions: z.array(drillAssertion).max(50).optional(),
  })
  .transform(({ storage_location_id: _single, ...v }) => ({
    ...v,
    storage_location_ids: storagesOf({ ...(_single && { storage_location_id: _single }), ...v }),
  }));

export const job = z.object({
  id: uuid,
  name: z.string(),
  datasource_id: uuid,
  storage_location_id: uuid,
  storage_location_ids: z.array(uuid),
  storage_strategy: storageStrategy,
  schedule_cron: z.string(),
  schedule_timezone: z.string(),
  schedule_description: z.string(),
  enabled: z.boolean(),
  catch_up: catchUpPolicy,
  max_retries: z.number().int(),
  retry_delay_minutes: z.number().int(),
  jitter_minutes: z.number().int(),
  retention_policy: z.record(z.string(), z.unknown()),
  backup_options: z.record(z.string(), z.unknown()),
  last_execution_at: isoDate.nullable(),
  /** The next slot; null while the job or all schedules are paused. */
  next_execution_at: isoDate.nullable(),
  /** The job's latest backup run, whatever started it, or null before its first. */
  last_result: z
    .object({ execution_id: uuid, status: executionStatus, trigger: executionTrigger, at: isoDate, error_message: z.string().nullable() })
    .nullable(),
  drill_cron: z.string().nullable(),
  drill_pick: drillPick,
  drill_assertions: z.array(z.string()),
  next_drill_at: isoDate.nullable(),
  last_drill: lastDrill.nullable(),
  created_at: isoDate,
  updated_at: isoDate,
});
export type Job = z.output<typeof job>;

export const schedulePreviewInput = z.object({ schedule_cron: scheduleCron, schedule_timezone: scheduleTimezone.default('UTC') });
export const schedulePreview = z.object({ description: z.string(), next_runs: z.array(isoDate) });

/** `POST /api/backup-jobs/:id/retention-preview`: the job's stored rule, or the one being edited. */
export const retentionPreviewInput = z.object({ id: uuid, retention_policy: retentionPolicy.optional() });

/** What retention does with one completed backup, and why ("newest", "daily 2026-11-29", "min_keep", "used by a restore"). */
export const retentionDecision = z.object({
  execution_id: uuid,
  started_at: isoDate,
  keep: z.boolean(),
  reasons: z.array(z.string()),
});
export type RetentionDecision = z.output<typeof retentionDecision>;

export const retentionPreview = z.object({
  auto_delete: z.boolean(),
  kept: z.array(retentionDecision),
  deleted: z.array(retentionDecision),
});
