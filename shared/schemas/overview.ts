import { z } from 'zod';
import { isoDate, uuid } from './common.js';
import { datasourceStatus, datasourceType, executionStatus } from './enums.js';

/** How many of a datasource's backups its size trend shows, and of a job's runs its charts. */
export const OVERVIEW_RUNS = 30;
/** The latency chart covers the last day, in buckets this long (288 points at most). */
export const LATENCY_BUCKET_MINUTES = 5;

const overviewDatasource = z.object({
  id: uuid,
  name: z.string(),
  type: datasourceType,
  status: datasourceStatus,
  enabled: z.boolean(),
  last_health_check_at: isoDate.nullable(),
  /** When its latest completed backup finished. */
  last_backup_at: isoDate.nullable(),
  /** The earliest next slot of its enabled jobs; null when none is scheduled (or schedules are paused). */
  next_run_at: isoDate.nullable(),
  jobs: z.number().int(),
  /** Its last completed backups' stored size, oldest first. */
  size_trend: z.array(z.object({ at: isoDate, bytes: z.number() })),
  /**
   * Its health checks of the last 24 hours, one point per bucket, oldest first: the average latency
   * of the checks that answered (null when none did) and how many failed.
   */
  latency: z.array(z.object({ at: isoDate, ms: z.number().nullable(), failed: z.number().int() })),
});

const overviewJob = z.object({
  id: uuid,
  name: z.string(),
  datasource_id: uuid,
  enabled: z.boolean(),
  /** Its last finished backup runs, oldest first. */
  runs: z.array(
    z.object({
      execution_id: uuid,
      at: isoDate,
      status: executionStatus,
      size_bytes: z.number().nullable(),
      duration_seconds: z.number().nullable(),
    }),
  ),
});

export const overview = z.object({
  /** The moment the answer describes (the core's clock). */
  now: isoDate,
  schedules_paused: z.boolean(),
  datasources: z.array(overviewDatasource),
  jobs: z.array(overviewJob),
});
export type Overview = z.output<typeof overview>;
export type OverviewDatasource = Overview['datasources'][number];
export type OverviewJob = Overview['jobs'][number];
