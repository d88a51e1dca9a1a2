import type { DatasourceStatus } from '../../../shared/schemas/enums.js';
import type { HealthCheckRow } from '../db/entities.js';

/** A datasource is reported as lost after this many failed checks in a row (seed: three). */
export const FAILURES_TO_CRITICAL = 3;

type Check = Pick<HealthCheckRow, 'status' | 'latency_ms'>;

/** Failed checks in a row, newest first, stopping at the first that answered. */
export function consecutiveFailures(newestFirst: Check[]): number {
  const answered = newestFirst.findIndex((c) => c.status === 'ok');
  return answered === -1 ? newestFirst.length : answered;
}

/**
 * The one rule for a datasource's status, from its latest checks (newest first; the scheduled checks
 * and the Test button both go through it): never checked is unknown; three failures in a row are
 * critical; one or two, or an answer slower than `slowMs`, are warning; otherwise healthy.
 */
export function datasourceStatus(newestFirst: Check[], slowMs: number): DatasourceStatus {
  const newest = newestFirst[0];
  if (!newest) return 'unknown';
  const failures = consecutiveFailures(newestFirst.slice(0, FAILURES_TO_CRITICAL));
  if (failures >= FAILURES_TO_CRITICAL) return 'critical';
  if (failures > 0) return 'warning';
  return (newest.latency_ms ?? 0) > slowMs ? 'warning' : 'healthy';
}
