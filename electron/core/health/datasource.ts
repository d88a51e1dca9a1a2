import type { ConnectionTestResult } from '../../../shared/schemas/datasource.js';
import type { DatasourceStatus } from '../../../shared/schemas/enums.js';
import { datasourceConfig } from '../catalog/datasources.js';
import { Datasources, HealthChecks, type DatasourceRow, type HealthCheckRow } from '../db/entities.js';
import { testConnection } from '../engines/index.js';
import type { CoreContext } from '../kernel/context.js';

/** A connection slower than this is healthy but worth a look. */
const SLOW_MS = 2000;

export function statusFromTest(result: ConnectionTestResult): DatasourceStatus {
  if (!result.ok) return 'critical';
  return (result.latency_ms ?? 0) > SLOW_MS ? 'warning' : 'healthy';
}

/** Keeps a connection test as a health check, and the datasource's status follows it. */
export async function recordCheck(ctx: Pick<CoreContext, 'db'>, row: DatasourceRow, result: ConnectionTestResult): Promise<HealthCheckRow> {
  const checks = ctx.db.getRepository(HealthChecks);
  const check = await checks.save(
    checks.create({
      datasource_id: row.id,
      status: result.status,
      latency_ms: result.latency_ms,
      error_message: result.ok ? null : result.message,
      metadata: result.metadata,
    }),
  );
  row.status = statusFromTest(result);
  row.last_health_check_at = check.checked_at;
  await ctx.db.getRepository(Datasources).update(row.id, { status: row.status, last_health_check_at: row.last_health_check_at });
  return check;
}

/** Tests a saved datasource now and records what it answered. */
export async function checkDatasource(ctx: Pick<CoreContext, 'db' | 'secrets'>, row: DatasourceRow): Promise<HealthCheckRow> {
  return recordCheck(ctx, row, await testConnection(row.type, datasourceConfig(ctx, row)));
}
