import { COMPRESSIONS, type CatchUpPolicy, type Compression, type StorageStrategy } from '../../../../shared/schemas/enums.js';
import type { DrillPick } from '../../../../shared/schemas/drill.js';
import { VERIFY_MODES, type Job } from '../../../../shared/schemas/job.js';
import { browserTimezone } from '../../format.js';
import { lines, optionalNumber, type Validation } from '../../forms.js';

export type VerifyMode = (typeof VERIFY_MODES)[number];

/** The job form's state: what the inputs hold, numbers still as typed. */
export interface Draft {
  name: string;
  datasource_id: string;
  storage_ids: string[];
  strategy: StorageStrategy;
  cron: string;
  timezone: string;
  enabled: boolean;
  catch_up: CatchUpPolicy;
  max_retries: string;
  retry_delay_minutes: string;
  jitter_minutes: string;
  retentionMode: 'count' | 'legacy';
  max_backups: string;
  keep_daily: string;
  keep_weekly: string;
  keep_monthly: string;
  keep_yearly: string;
  min_keep: string;
  auto_delete: boolean;
  compression: Compression;
  level: string;
  parallel_jobs: string;
  parallel_databases: string;
  include_tables: string;
  exclude_tables: string;
  max_file_size_mb: string;
  verify: VerifyMode;
  /** '' on a new job: the server's default (age once encryption is set up). */
  encryption: 'age' | 'none' | '';
  /** Restore drills on a schedule: off by default; switched on, the form suggests weekly. */
  drill_on: boolean;
  drill_cron: string;
  drill_pick: DrillPick;
  /** One SQL query per line. */
  drill_assertions: string;
}

/** Sunday 04:00, in the job's timezone: weekly, at an hour backups rarely take. */
export const WEEKLY_DRILL = '0 4 * * 0';

/** Sets one entry; with the schema path of its input, that input's server error goes, as it is stale now. */
export type SetDraft = <K extends keyof Draft>(key: K, path?: string) => (value: Draft[K]) => void;

type TextKey = { [K in keyof Draft]: Draft[K] extends string ? K : never }[keyof Draft];

/** What a text input of the draft is given: its value, its error, and how it edits and touches. */
export type Bind = (key: TextKey, path: string) => { value: string; error: string | undefined; onChange(value: string): void; onBlur(): void };

/** What every section of the job form is given. */
export interface SectionProps {
  draft: Draft;
  set: SetDraft;
  bind: Bind;
  validation: Validation;
}

export const isCompression = (v: unknown): v is Compression => (COMPRESSIONS as readonly unknown[]).includes(v);
export const isVerifyMode = (v: unknown): v is VerifyMode => (VERIFY_MODES as readonly unknown[]).includes(v);

const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));
const list = (v: unknown) => (Array.isArray(v) ? v.join('\n') : '');

export function draftFromJob(job: Job): Draft {
  const r = job.retention_policy;
  const o = job.backup_options;
  const legacy =
    r.max_backups === undefined && (r.keep_daily !== undefined || r.keep_weekly !== undefined || r.keep_monthly !== undefined || r.keep_yearly !== undefined);
  return {
    name: job.name,
    datasource_id: job.datasource_id,
    storage_ids: job.storage_location_ids,
    strategy: job.storage_strategy,
    cron: job.schedule_cron,
    timezone: job.schedule_timezone,
    enabled: job.enabled,
    catch_up: job.catch_up,
    max_retries: text(job.max_retries),
    retry_delay_minutes: text(job.retry_delay_minutes),
    jitter_minutes: text(job.jitter_minutes),
    retentionMode: legacy ? 'legacy' : 'count',
    max_backups: text(r.max_backups ?? (legacy ? '' : 3)),
    keep_daily: text(r.keep_daily ?? (legacy ? '' : 7)),
    keep_weekly: text(r.keep_weekly ?? (legacy ? '' : 4)),
    keep_monthly: text(r.keep_monthly ?? (legacy ? '' : 6)),
    keep_yearly: text(r.keep_yearly ?? ''),
    min_keep: text(r.min_keep ?? 1),
    auto_delete: r.auto_delete !== false,
    compression: isCompression(o.compression) ? o.compression : 'gzip',
    level: text(o.compression_level),
    parallel_jobs: text(o.parallel_jobs ?? 1),
    parallel_databases: text(o.parallel_databases ?? 1),
    include_tables: list(o.include_tables),
    exclude_tables: list(o.exclude_tables),
    max_file_size_mb: text(o.max_file_size_mb),
    verify: isVerifyMode(o.verify_after_backup) ? o.verify_after_backup : 'none',
    encryption: o.encryption === 'age' ? 'age' : 'none',
    drill_on: job.drill_cron !== null,
    drill_cron: job.drill_cron ?? WEEKLY_DRILL,
    drill_pick: job.drill_pick,
    drill_assertions: job.drill_assertions.join('\n'),
  };
}

export function freshDraft(defaultStorage: string | undefined, datasource: string | undefined): Draft {
  return {
    name: '',
    datasource_id: datasource ?? '',
    storage_ids: defaultStorage ? [defaultStorage] : [],
    strategy: 'fallback',
    cron: '0 3 * * *',
    timezone: browserTimezone(),
    enabled: true,
    catch_up: 'once',
    max_retries: '2',
    retry_delay_minutes: '5',
    jitter_minutes: '0',
    retentionMode: 'count',
    max_backups: '7',
    keep_daily: '7',
    keep_weekly: '4',
    keep_monthly: '6',
    keep_yearly: '',
    min_keep: '1',
    auto_delete: true,
    compression: 'gzip',
    level: '',
    parallel_jobs: '1',
    parallel_databases: '1',
    include_tables: '',
    exclude_tables: '',
    max_file_size_mb: '',
    verify: 'checksum',
    encryption: '',
    drill_on: false,
    drill_cron: WEEKLY_DRILL,
    drill_pick: 'latest',
    drill_assertions: '',
  };
}

/** The retention rule as the draft says it (also what the retention preview is asked about). */
export function retentionOf(d: Draft): Record<string, unknown> {
  const n = (s: string) => optionalNumber(s);
  const rule =
    d.retentionMode === 'count'
      ? { max_backups: n(d.max_backups) }
      : { keep_daily: n(d.keep_daily), keep_weekly: n(d.keep_weekly), keep_monthly: n(d.keep_monthly), keep_yearly: n(d.keep_yearly) };
  const retention = { ...rule, min_keep: n(d.min_keep), auto_delete: d.auto_delete };
  return Object.fromEntries(Object.entries(retention).filter(([, v]) => v !== undefined));
}

/** The draft as `jobs.create` takes it; the shared schema then names what is wrong with it. */
export function payloadOf(d: Draft) {
  return {
    name: d.name,
    datasource_id: d.datasource_id,
    storage_location_ids: d.storage_ids,
    storage_strategy: d.strategy,
    schedule_cron: d.cron,
    schedule_timezone: d.timezone,
    enabled: d.enabled,
    catch_up: d.catch_up,
    max_retries: optionalNumber(d.max_retries),
    retry_delay_minutes: optionalNumber(d.retry_delay_minutes),
    jitter_minutes: optionalNumber(d.jitter_minutes),
    retention_policy: retentionOf(d),
    backup_options: {
      compression: d.compression,
      ...(d.compression !== 'none' && d.level.trim() !== '' ? { compression_level: Number(d.level) } : {}),
      ...(d.parallel_jobs.trim() !== '' ? { parallel_jobs: Number(d.parallel_jobs) } : {}),
      ...(d.parallel_databases.trim() !== '' ? { parallel_databases: Number(d.parallel_databases) } : {}),
      include_tables: lines(d.include_tables),
      exclude_tables: lines(d.exclude_tables),
      ...(d.max_file_size_mb.trim() !== '' ? { max_file_size_mb: Number(d.max_file_size_mb) } : {}),
      verify_after_backup: d.verify,
      ...(d.encryption ? { encryption: d.encryption } : {}),
    },
    drill_cron: d.drill_on ? d.drill_cron : null,
    drill_pick: d.drill_pick,
    drill_assertions: lines(d.drill_assertions),
  };
}
