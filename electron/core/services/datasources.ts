import { In } from 'typeorm';
import { CONNECTION_CONFIG, type Datasource, type ConnectionTestResult } from '../../../shared/schemas/datasource.js';
import type { DatasourceStatus, DatasourceType } from '../../../shared/schemas/enums.js';
import { maskSecrets, mergeSecrets } from '../../../shared/secrets.js';
import { AppError } from '../../../shared/errors.js';
import { BackupJobs, Datasources, HealthChecks, type DatasourceRow, type HealthCheckRow } from '../db/entities.js';
import { testConnection } from '../engines/connection.js';
import type { Handlers } from '../dispatch.js';
import { iso, type ServiceContext } from './context.js';
import { notFound, parseAt } from './validate.js';

/** A connection slower than this is healthy but worth a look. */
const SLOW_MS = 2000;

export function statusFromTest(result: ConnectionTestResult): DatasourceStatus {
  if (!result.ok) return 'critical';
  return (result.latency_ms ?? 0) > SLOW_MS ? 'warning' : 'healthy';
}

export function toDatasource(row: DatasourceRow): Datasource {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    connection_config: maskSecrets(row.connection_config),
    status: row.status,
    last_health_check_at: iso(row.last_health_check_at),
    enabled: row.enabled,
    tags: row.tags,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

const toHealthCheck = (h: HealthCheckRow) => ({
  id: h.id,
  datasource_id: h.datasource_id,
  checked_at: h.checked_at.toISOString(),
  status: h.status,
  latency_ms: h.latency_ms,
  error_message: h.error_message,
  metadata: h.metadata,
});

function refuseFailedTest(result: ConnectionTestResult): never {
  throw new AppError('connection_failed', result.message, undefined, { status: result.status, test: result });
}

export function datasourceService(ctx: ServiceContext): Handlers['datasources'] {
  const repo = ctx.db.getRepository(Datasources);
  const checks = ctx.db.getRepository(HealthChecks);

  async function load(id: string): Promise<DatasourceRow> {
    const row = await repo.findOneBy({ id });
    if (!row) throw notFound('Datasource', id);
    return row;
  }

  /** A config from a form, completed with the stored secrets the form did not repeat, then checked. */
  function resolveConfig(type: DatasourceType, incoming: Record<string, unknown>, stored?: DatasourceRow) {
    const storedPlain = stored ? ctx.secrets.openConfig(stored.connection_config) : undefined;
    return parseAt(CONNECTION_CONFIG[type], mergeSecrets(incoming, storedPlain), 'connection_config') as Record<string, unknown>;
  }

  async function recordCheck(row: DatasourceRow, result: ConnectionTestResult) {
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
    await repo.update(row.id, { status: row.status, last_health_check_at: row.last_health_check_at });
    return check;
  }

  const changed = (id: string | null, action: 'created' | 'updated' | 'deleted') =>
    ctx.events.emit('entity.changed', { entity: 'datasource', id, action });

  return {
    async list() {
      return (await repo.find({ order: { name: 'ASC' } })).map(toDatasource);
    },

    async get({ id }) {
      return toDatasource(await load(id));
    },

    async create(input) {
      const config = input.connection_config as Record<string, unknown>;
      const result = await testConnection(input.type, input.connection_config);
      if (!result.ok && !input.save_anyway) refuseFailedTest(result);
      const row = await repo.save(
        repo.create({
          name: input.name,
          type: input.type,
          connection_config: ctx.secrets.sealConfig(config),
          enabled: input.enabled,
          tags: input.tags,
          status: 'unknown',
        }),
      );
      await recordCheck(row, result);
      changed(row.id, 'created');
      return toDatasource(row);
    },

    async update(input) {
      const row = await load(input.id);
      if (input.connection_config) {
        const config = resolveConfig(row.type, input.connection_config, row);
        const result = await testConnection(row.type, config as never);
        if (!result.ok && !input.save_anyway) refuseFailedTest(result);
        row.connection_config = ctx.secrets.sealConfig(config);
        await repo.save(row);
        await recordCheck(row, result);
      }
      if (input.name !== undefined) row.name = input.name;
      if (input.tags !== undefined) row.tags = input.tags;
      if (input.enabled !== undefined) row.enabled = input.enabled;
      const saved = await repo.save(row);
      changed(row.id, 'updated');
      return toDatasource(saved);
    },

    async delete({ id }) {
      await load(id);
      const jobs = await ctx.db.getRepository(BackupJobs).find({ where: { datasource_id: In([id]) }, select: { name: true } });
      if (jobs.length > 0) {
        throw new AppError(
          'conflict',
          `This datasource is used by ${jobs.length} backup job(s): ${jobs.map((j) => j.name).join(', ')}. Delete those jobs first, or disable the datasource instead.`,
        );
      }
      await repo.delete(id);
      changed(id, 'deleted');
      return { id, deleted: true as const };
    },

    async test(input) {
      const stored = input.id ? await load(input.id) : undefined;
      const type = stored?.type ?? input.type!;
      if (input.type && stored && input.type !== stored.type) {
        throw new AppError('validation_error', `A ${stored.type} datasource cannot be tested as ${input.type}`);
      }
      const config = input.connection_config
        ? resolveConfig(type, input.connection_config, stored)
        : ctx.secrets.openConfig(stored!.connection_config);
      return testConnection(type, config as never);
    },

    async healthCheck({ id }) {
      const row = await load(id);
      const result = await testConnection(row.type, ctx.secrets.openConfig(row.connection_config) as never);
      const check = await recordCheck(row, result);
      changed(row.id, 'updated');
      return toHealthCheck(check);
    },

    async healthChecks({ id, limit }) {
      await load(id);
      return (await checks.find({ where: { datasource_id: id }, order: { checked_at: 'DESC' }, take: limit })).map(toHealthCheck);
    },
  };
}
