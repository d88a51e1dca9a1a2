import { drillHistory } from '../catalog/drills.js';
import { LATENCY_RANGES, OVERVIEW_RUNS, type LatencyRange, type Overview } from '../../../shared/schemas/overview.js';
import type { DatasourceStatus, DatasourceType, ExecutionStatus } from '../../../shared/schemas/enums.js';
import { readSettings } from '../kernel/settings.js';
import type { Handlers } from './handlers.js';
import { iso, type ServiceContext } from './context.js';

const DAY_MS = 86_400_000;
const num = (v: string | number | null): number | null => (v === null ? null : Number(v));

/**
 * The Overview in six queries whatever the number of datasources and jobs: each series is cut in SQL
 * (the last runs per job or datasource by row number, the day's checks by time bucket), so the answer
 * stays small and no query is made per row.
 */
export function overviewService(ctx: ServiceContext): Handlers['overview'] {
  return {
    async get({ range: asked }) {
      const now = ctx.clock.now();
      const range = asked ?? (await defaultRange(ctx, now));
      const { seconds, bucket } = LATENCY_RANGES[range];
      const since = new Date(now.getTime() - seconds * 1000);
      const [datasources, jobs, sizes, runs, latency, settings, drills] = await Promise.all([
        ctx.db.query<{ id: string; name: string; type: DatasourceType; status: DatasourceStatus; enabled: boolean; last_health_check_at: Date | null }[]>(
          'SELECT id, name, type, status, enabled, last_health_check_at FROM datasources ORDER BY name, id',
        ),
        ctx.db.query<{ id: string; name: string; datasource_id: string; enabled: boolean; next_execution_at: Date | null }[]>(
          'SELECT id, name, datasource_id, enabled, next_execution_at FROM backup_jobs ORDER BY name, id',
        ),
        ctx.db.query<{ datasource_id: string; at: Date; bytes: string | null }[]>(
          `SELECT datasource_id, at, bytes FROM (
             SELECT datasource_id, finished_at AS at, COALESCE(compressed_size_bytes, size_bytes) AS bytes,
                    row_number() OVER (PARTITION BY datasource_id ORDER BY finished_at DESC) AS n
             FROM backup_executions
             WHERE operation = 'backup' AND status IN ('completed', 'partial') AND datasource_id IS NOT NULL AND finished_at IS NOT NULL
           ) recent WHERE n <= $1 ORDER BY datasource_id, at`,
          [OVERVIEW_RUNS],
        ),
        ctx.db.query<{ job_id: string; execution_id: string; at: Date; status: ExecutionStatus; bytes: string | null; duration_seconds: number | null }[]>(
          `SELECT job_id, execution_id, at, status, bytes, duration_seconds FROM (
             SELECT job_id, id AS execution_id, COALESCE(finished_at, created_at) AS at, status,
                    COALESCE(compressed_size_bytes, size_bytes) AS bytes, duration_seconds,
                    row_number() OVER (PARTITION BY job_id ORDER BY created_at DESC) AS n
             FROM backup_executions
             WHERE operation = 'backup' AND status IN ('completed', 'partial', 'failed') AND job_id IS NOT NULL
           ) recent WHERE n <= $1 ORDER BY job_id, at`,
          [OVERVIEW_RUNS],
        ),
        ctx.db.query<{ datasource_id: string; at: Date; ms: string | null; failed: string }[]>(
          // date_part is a double; extract() is numeric since PostgreSQL 14 and several times slower over a day of checks.
          `SELECT datasource_id, to_timestamp(floor(date_part('epoch', checked_at) / $3) * $3) AS at,
                  round(avg(latency_ms) FILTER (WHERE status = 'ok')) AS ms,
                  count(*) FILTER (WHERE status <> 'ok') AS failed
           FROM health_checks WHERE checked_at > $1 AND checked_at <= $2
           GROUP BY 1, 2 ORDER BY 1, 2`,
          [since, now, bucket],
        ),
        readSettings(ctx.db),
        drillHistory(ctx, OVERVIEW_RUNS),
      ]);

      const byDatasource = <T extends { datasource_id: string }>(rows: T[]) => {
        const map = new Map<string, T[]>();
        for (const r of rows) map.set(r.datasource_id, [...(map.get(r.datasource_id) ?? []), r]);
        return map;
      };
      const sizesOf = byDatasource(sizes);
      const latencyOf = byDatasource(latency);
      const jobsOf = byDatasource(jobs);
      const runsOf = new Map<string, typeof runs>();
      for (const r of runs) runsOf.set(r.job_id, [...(runsOf.get(r.job_id) ?? []), r]);

      const answer: Overview = {
        now: now.toISOString(),
        schedules_paused: settings['schedules.paused'],
        latency_range: range,
        latency_bucket_seconds: bucket,
        datasources: datasources.map((d) => {
          const trend = sizesOf.get(d.id) ?? [];
          const next = (jobsOf.get(d.id) ?? [])
            .filter((j) => j.enabled && j.next_execution_at)
            .map((j) => j.next_execution_at!.getTime())
            .sort((a, b) => a - b)[0];
          return {
            ...d,
            last_health_check_at: iso(d.last_health_check_at),
            last_backup_at: iso(trend.at(-1)?.at ?? null),
            next_run_at: next === undefined ? null : new Date(next).toISOString(),
            jobs: jobsOf.get(d.id)?.length ?? 0,
            size_trend: trend.map((t) => ({ at: t.at.toISOString(), bytes: num(t.bytes) ?? 0 })),
            latency: (latencyOf.get(d.id) ?? []).map((l) => ({ at: l.at.toISOString(), ms: num(l.ms), failed: Number(l.failed) })),
          };
        }),
        jobs: jobs.map((j) => ({
          id: j.id,
          name: j.name,
          datasource_id: j.datasource_id,
          enabled: j.enabled,
          runs: (runsOf.get(j.id) ?? []).map((r) => ({
            execution_id: r.execution_id,
            at: r.at.toISOString(),
            status: r.status,
            size_bytes: num(r.bytes),
            duration_seconds: r.duration_seconds,
          })),
          drills: drills.get(j.id) ?? [],
        })),
      };
      return answer;
    },
  };
}

/** The last day; the last hour while every check of the day is newer than an hour (a new install), so its few points spread out. */
async function defaultRange(ctx: ServiceContext, now: Date): Promise<LatencyRange> {
  const [first] = await ctx.db.query<{ at: Date | null }[]>('SELECT min(checked_at) AS at FROM health_checks WHERE checked_at > $1 AND checked_at <= $2', [
    new Date(now.getTime() - DAY_MS),
    now,
  ]);
  return first?.at && now.getTime() - first.at.getTime() <= 3_600_000 ? '1h' : '24h';
}
