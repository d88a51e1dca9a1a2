import type { ConnectionConfig, ConnectionTestResult } from '../../../shared/schemas/datasource.js';
import type { DatasourceStatus, DatasourceType } from '../../../shared/schemas/enums.js';
import { datasourceConfig } from '../catalog/datasources.js';
import { Datasources, HealthChecks, type DatasourceRow, type HealthCheckRow } from '../db/entities.js';
import { serverDatabasesOf, isWholeServer } from '../catalog/server-databases.js';
import { testConnection } from '../engines/index.js';
import { TimeoutError, withTimeout } from '../engines/probe.js';
import type { CoreContext } from '../kernel/context.js';
import { readSettings } from '../kernel/settings.js';
import type { NewNotification, Notifier } from '../notify/notifier.js';
import { duration, observe, type Condition, type Level, type Notice } from './conditions.js';
import { datasourceStatus, FAILURES_TO_CRITICAL } from './status.js';

/** What a health check needs: the core's parts and the notifier. */
export type HealthContext = CoreContext & { notifier: Notifier };

/** How long one check may take; each datasource has its own, so a hanging host delays no other. */
const CHECK_TIMEOUT_MS = 10_000;

const HOUR = 3_600_000;
/** Checks are kept this long (the history the UI charts); every 5 minutes that is ~8,600 rows per datasource. */
const HISTORY_MS = 30 * 24 * HOUR;

/**
 * Keeps a connection test as a health check; the datasource's status follows the rule of `status.ts`
 * over its latest checks, the UI is told when it changes, and its condition notifies as it must.
 */
export async function recordCheck(ctx: HealthContext, row: DatasourceRow, result: ConnectionTestResult): Promise<HealthCheckRow> {
  const now = ctx.clock.now();
  const checks = ctx.db.getRepository(HealthChecks);
  const check = await checks.save(
    checks.create({
      datasource_id: row.id,
      checked_at: now,
      status: result.status,
      latency_ms: result.latency_ms,
      error_message: result.ok ? null : result.message,
      metadata: result.metadata,
    }),
  );
  await ctx.db.query('DELETE FROM health_checks WHERE datasource_id = $1 AND checked_at < $2', [row.id, new Date(now.getTime() - HISTORY_MS)]);
  const settings = await readSettings(ctx.db);
  const slowMs = settings['system.health_latency_warning_ms'];
  const recent = await checks.find({ where: { datasource_id: row.id }, order: { checked_at: 'DESC' }, take: FAILURES_TO_CRITICAL });
  const previous = row.status;
  row.status = datasourceStatus(recent, slowMs);
  row.last_health_check_at = check.checked_at;
  await ctx.db.getRepository(Datasources).update(row.id, { status: row.status, last_health_check_at: row.last_health_check_at });
  if (row.status !== previous) {
    ctx.events.emit('datasource.status', { datasource_id: row.id, status: row.status, previous, checked_at: now.toISOString() });
    ctx.events.emit('entity.changed', { entity: 'datasource', id: row.id, action: 'updated' });
  }
  await observe(ctx, {
    kind: 'datasource',
    entity_id: row.id,
    level: levelOf(row.status),
    now,
    cooldownMs: settings['notifications.reminder_cooldown_hours'] * HOUR,
    message: (notice, was) => datasourceMessage(row, result, slowMs, notice, was, now),
  });
  return check;
}

/** Tests a saved datasource now and records what it answered. */
export async function checkDatasource(ctx: HealthContext, row: DatasourceRow): Promise<HealthCheckRow> {
  const config = datasourceConfig(ctx, row);
  const test = testConnection(row.type, config, { timeoutMs: CHECK_TIMEOUT_MS }).then((r) =>
    r.ok && isWholeServer(row.type, config) ? withServerDatabases(r, row.type, config) : r,
  );
  const limit = CHECK_TIMEOUT_MS + 2_000;
  return recordCheck(ctx, row, await answerWithin(test, limit, () => timedOut(limit)));
}

/** A whole server's check also says how many databases it backs up and each one's size (the server's estimate). */
async function withServerDatabases(result: ConnectionTestResult, type: DatasourceType, config: ConnectionConfig): Promise<ConnectionTestResult> {
  try {
    const { databases } = await serverDatabasesOf(type, config, AbortSignal.timeout(CHECK_TIMEOUT_MS));
    const picked = databases.filter((d) => d.reason === 'picked');
    return {
      ...result,
      metadata: {
        ...result.metadata,
        databases_count: picked.length,
        databases: picked.map((d) => ({ name: d.name, size_bytes: d.size_bytes })),
        database_size_bytes: picked.reduce((n, d) => n + (d.size_bytes ?? 0), 0),
      },
    };
  } catch {
    // The connection answered: a list the login may not read does not make the server unhealthy.
    return result;
  }
}

/** Engines time their network calls out; a folder or file on a dead network share may still hang, and is cut here. */
export function answerWithin<T>(work: Promise<T>, ms: number, late: () => T): Promise<T> {
  return withTimeout(work, ms, () => undefined).catch((e: unknown) => {
    if (e instanceof TimeoutError) return late();
    throw e;
  });
}

const timedOut = (ms: number): ConnectionTestResult => ({
  status: 'timeout',
  ok: false,
  latency_ms: null,
  message: `No answer in ${Math.round(ms / 1000)} s: is the server overloaded, or the network share gone?`,
  metadata: {},
});

const levelOf = (status: DatasourceStatus): Level | null => (status === 'critical' ? 'critical' : status === 'warning' ? 'warning' : null);

/**
 * Entering warning says "degraded"; critical (three failures) says "lost"; answering again after a loss
 * says "restored" (info); a warning that ends says so with a `health_degraded` of severity info.
 */
export function datasourceMessage(
  row: DatasourceRow,
  result: ConnectionTestResult,
  slowMs: number,
  notice: Notice,
  was: Condition | null,
  now: Date,
): NewNotification {
  const base = { entity_type: 'datasource' as const, entity_id: row.id, metadata: { status: row.status, latency_ms: result.latency_ms, check: result.status } };
  const since = was ? ` (for ${duration(was.raised_at.getTime(), now.getTime())})` : '';
  const why = result.ok ? `it answered in ${result.latency_ms} ms, slower than the ${slowMs} ms warning threshold` : `the last check failed: ${result.message}`;
  if (notice === 'cleared' || notice === 'eased') {
    if (was?.level === 'critical') {
      return {
        ...base,
        type: 'connection_restored',
        severity: 'info',
        title: `Connection restored: ${row.name}`,
        message: `${row.name} answers again${since}${notice === 'eased' ? `, but slowly: ${why}` : ` (in ${result.latency_ms} ms)`}.`,
      };
    }
    return {
      ...base,
      type: 'health_degraded',
      severity: 'info',
      title: `${row.name} is healthy again`,
      message: `${row.name} answers normally again${since}.`,
    };
  }
  const reminder = notice === 'reminder' ? 'Still: ' : '';
  if (row.status === 'critical') {
    return {
      ...base,
      type: 'connection_lost',
      severity: 'critical',
      title: `${reminder}Connection lost: ${row.name}`,
      message: `${row.name} failed ${FAILURES_TO_CRITICAL} checks in a row${since}; ${why}. Its backups fail until it answers again.`,
    };
  }
  return {
    ...base,
    type: 'health_degraded',
    severity: 'warning',
    title: `${reminder}${row.name} is ${result.ok ? 'slow' : 'not answering'}`,
    message: `${row.name}: ${why}${since}.${result.ok ? '' : ` After ${FAILURES_TO_CRITICAL} failures in a row it is reported as lost.`}`,
  };
}
