import { In } from 'typeorm';
import { counted } from '../../../shared/format.js';
import { CONNECTION_CONFIG, type ConnectionConfig, type ConnectionTestResult, type Datasource } from '../../../shared/schemas/datasource.js';
import type { DatasourceType } from '../../../shared/schemas/enums.js';
import { maskSecrets } from '../../../shared/secrets.js';
import { AppError } from '../../../shared/errors.js';
import { datasourceConfig } from '../catalog/datasources.js';
import { BackupJobs, Datasources, HealthChecks, type DatasourceRow, type HealthCheckRow } from '../db/entities.js';
import { serverDatabasesOf } from '../catalog/server-databases.js';
import { testConnection } from '../engines/index.js';
import { checkDatasource, recordCheck } from '../health/datasource.js';
import type { Handlers } from './handlers.js';
import { iso, type ServiceContext } from './context.js';
import { loader, refuseFailedTest, resolveConfig, withRetypeHint, type ResolvedConfig } from './validate.js';

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

const refuse = (result: ConnectionTestResult): never => refuseFailedTest(result, { status: result.status, test: result });

export function datasourceService(ctx: ServiceContext): Handlers['datasources'] {
  const repo = ctx.db.getRepository(Datasources);
  const checks = ctx.db.getRepository(HealthChecks);
  const load = loader(repo, 'Datasource');
  const configOf = (type: DatasourceType, incoming: Record<string, unknown>, stored?: DatasourceRow): ResolvedConfig<ConnectionConfig> =>
    resolveConfig(ctx.secrets, CONNECTION_CONFIG[type], type, incoming, stored?.connection_config, 'connection_config');
  /** Tests a config; when a stored secret was withheld, the answer says to type it again. */
  const testResolved = async (type: DatasourceType, { config, withheld }: ResolvedConfig<ConnectionConfig>): Promise<ConnectionTestResult> => {
    const result = await testConnection(type, config);
    return { ...result, message: withRetypeHint(result.message, withheld) };
  };
  const changed = (id: string | null, action: 'created' | 'updated' | 'deleted') => ctx.events.emit('entity.changed', { entity: 'datasource', id, action });

  return {
    async list() {
      return (await repo.find({ order: { name: 'ASC' } })).map(toDatasource);
    },

    async get({ id }) {
      return toDatasource(await load(id));
    },

    async create(input) {
      const result = await testConnection(input.type, input.connection_config);
      if (!result.ok && !input.save_anyway) refuse(result);
      const row = await repo.save(
        repo.create({
          name: input.name,
          type: input.type,
          connection_config: ctx.secrets.sealConfig(input.connection_config),
          enabled: input.enabled,
          tags: input.tags,
          status: 'unknown',
        }),
      );
      await recordCheck(ctx, row, result);
      changed(row.id, 'created');
      return toDatasource(row);
    },

    async update(input) {
      const row = await load(input.id);
      if (input.connection_config) {
        const resolved = configOf(row.type, input.connection_config, row);
        const result = await testResolved(row.type, resolved);
        if (!result.ok && !input.save_anyway) refuse(result);
        row.connection_config = ctx.secrets.sealConfig(resolved.config);
        await repo.save(row);
        await recordCheck(ctx, row, result);
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
          `This datasource is used by ${counted(jobs.length, 'backup job')}: ${jobs.map((j) => j.name).join(', ')}. Delete ${jobs.length === 1 ? 'it' : 'those jobs'} first, or disable the datasource instead.`,
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
      return input.connection_config
        ? testResolved(type, configOf(type, input.connection_config, stored))
        : testConnection(type, datasourceConfig(ctx, stored!));
    },

    async databases(input) {
      const stored = input.id ? await load(input.id) : undefined;
      const type = stored?.type ?? input.type!;
      const config = input.connection_config ? configOf(type, input.connection_config, stored).config : datasourceConfig(ctx, stored!);
      return serverDatabasesOf(type, config);
    },

    async healthCheck({ id }) {
      const check = await checkDatasource(ctx, await load(id));
      changed(id, 'updated');
      return toHealthCheck(check);
    },

    async healthChecks({ id, limit }) {
      await load(id);
      return (await checks.find({ where: { datasource_id: id }, order: { checked_at: 'DESC' }, take: limit })).map(toHealthCheck);
    },
  };
}
