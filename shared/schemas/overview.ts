import { z } from 'zod';
import { isoDate, uuid } from './common.js';
import { datasourceStatus, datasourceType, executionStatus } from './enums.js';

/** How many of a datasource's backups its size trend shows, and of a job's runs its charts. */
export const OVERVIEW_RUNS = 30;
/**
 * The spans the latency charts can cover, each in buckets that keep it at 60 to 288 points: the last
 * hour by the minute, the last day by 5 minutes, the last week by the hour.
 */
export const LATENCY_RANGES = {
  '1h': { seconds: 3_600, bucket: 60 },
  '24h': { seconds: 86_400, bucket: 300 },
  '7d': { seconds: 604_800, bucket: 3_600 },
} as const;
export const latencyRange = z.enum(['1h', '24h', '7d']);
export type LatencyRange = z.output<typeof latencyRange>;

/** `GET /api/overview?range=7d`; without a range, the last day, or the last hour when every check is newer (a new install). */
export const overviewInput = z.object({ range: latencyRange.optional() });

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
   * Its health checks over `latency_range`, one point per bucket, oldest first: the average latency
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
  /** Its last drills, oldest first: the measured restore time (RTO) over time; null for one that restored nothing. */
  drills: z.array(z.object({ execution_id: uuid, at: isoDate, status: executionStatus, rto_seconds: z.number().nullable() })),
});

export const overview = z.object({
  /** The moment the answer describes (the core's clock). */
  now: isoDate,
  schedules_paused: z.boolean(),
  /** The span the latency series cover (asked for, or chosen), and the length of one bucket. */
  latency_range: latencyRange,
  latency_bucket_seconds: z.number().int(),
  datasources: z.array(overviewDatasource),
  jobs: z.array(overviewJob),
});
export type Overview = z.output<typeof overview>;
export type OverviewDatasource = Overview['datasources'][number];
export type OverviewJob = Overview['jobs'][number];
