import { In, type EntityManager } from 'typeorm';
import { describeSchedule, nextRuns } from '../../../shared/cron.js';
import { AppError } from '../../../shared/errors.js';
import type { Job } from '../../../shared/schemas/job.js';
import { BackupJobs, BackupJobStorages, Datasources, StorageLocations, type JobRow } from '../db/entities.js';
import type { Handlers } from './handlers.js';
import { iso, type ServiceContext } from './context.js';
import { notFound } from './validate.js';

export function toJob(row: JobRow, storageIds: string[]): Job {
  return {
    id: row.id,
    name: row.name,
    datasource_id: row.datasource_id,
    storage_location_id: storageIds[0] ?? row.storage_location_id,
    storage_location_ids: storageIds.length ? storageIds : [row.storage_location_id],
    storage_strategy: row.storage_strategy,
    schedule_cron: row.schedule_cron,
    schedule_timezone: row.schedule_timezone,
    schedule_description: describeSchedule(row.schedule_cron, row.schedule_timezone),
    enabled: row.enabled,
    retention_policy: row.retention_policy,
    backup_options: row.backup_options,
    last_execution_at: iso(row.last_execution_at),
    next_execution_at: iso(row.next_execution_at),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/** When the job runs next, or null while it is disabled. */
export function nextExecution(row: Pick<JobRow, 'enabled' | 'schedule_cron' | 'schedule_timezone'>, from = new Date()): Date | null {
  if (!row.enabled) return null;
  const [next] = nextRuns(row.schedule_cron, row.schedule_timezone, 1, from);
  return next ? new Date(next) : null;
}

/** `run` and `executions` live with the executions service, `retentionPreview` with retention. */
export function jobService(ctx: ServiceContext): Omit<Handlers['jobs'], 'run' | 'executions' | 'retentionPreview'> {
  const repo = ctx.db.getRepository(BackupJobs);
  const links = ctx.db.getRepository(BackupJobStorages);

  async function storagesOf(jobIds: string[]): Promise<Map<string, string[]>> {
    const map = new Map<string, string[]>();
    if (jobIds.length === 0) return map;
    for (const l of await links.find({ where: { job_id: In(jobIds) }, order: { position: 'ASC' } })) {
      map.set(l.job_id, [...(map.get(l.job_id) ?? []), l.storage_location_id]);
    }
    return map;
  }

  async function load(id: string): Promise<JobRow> {
    const row = await repo.findOneBy({ id });
    if (!row) throw notFound('Backup job', id);
    return row;
  }

  async function present(row: JobRow): Promise<Job> {
    return toJob(row, (await storagesOf([row.id])).get(row.id) ?? []);
  }

  async function checkReferences(datasourceId: string | undefined, storageIds: string[] | undefined) {
    if (datasourceId && !(await ctx.db.getRepository(Datasources).existsBy({ id: datasourceId }))) {
      throw new AppError('validation_error', 'The chosen datasource does not exist', [{ path: 'datasource_id', message: 'Datasource not found' }]);
    }
    if (storageIds) {
      const found = await ctx.db.getRepository(StorageLocations).findBy({ id: In(storageIds) });
      const missing = storageIds.filter((id) => !found.some((s) => s.id === id));
      if (missing.length) {
        throw new AppError('validation_error', `Storage not found: ${missing.join(', ')}`, [{ path: 'storage_location_ids', message: 'Storage not found' }]);
      }
    }
  }

  async function setStorages(m: EntityManager, jobId: string, storageIds: string[]) {
    await m.delete(BackupJobStorages, { job_id: jobId });
    await m.insert(
      BackupJobStorages,
      storageIds.map((storage_location_id, position) => ({ job_id: jobId, storage_location_id, position })),
    );
  }

  const changed = (id: string | null, action: 'created' | 'updated' | 'deleted') => ctx.events.emit('entity.changed', { entity: 'job', id, action });

  return {
    async list() {
      const rows = await repo.find({ order: { name: 'ASC' } });
      const storages = await storagesOf(rows.map((r) => r.id));
      return rows.map((r) => toJob(r, storages.get(r.id) ?? []));
    },

    async get({ id }) {
      return present(await load(id));
    },

    async create(input) {
      await checkReferences(input.datasource_id, input.storage_location_ids);
      const saved = await ctx.db.transaction(async (m) => {
        const row = m.getRepository(BackupJobs).create({
          name: input.name,
          datasource_id: input.datasource_id,
          storage_location_id: input.storage_location_ids[0]!,
          storage_strategy: input.storage_strategy,
          schedule_cron: input.schedule_cron,
          schedule_timezone: input.schedule_timezone,
          enabled: input.enabled,
          retention_policy: input.retention_policy,
          backup_options: input.backup_options,
        });
        row.next_execution_at = nextExecution(row);
        const job = await m.getRepository(BackupJobs).save(row);
        await setStorages(m, job.id, input.storage_location_ids);
        return job;
      });
      changed(saved.id, 'created');
      return present(saved);
    },

    async update(input) {
      const row = await load(input.id);
      await checkReferences(input.datasource_id, input.storage_location_ids);
      const { id, storage_location_ids, ...fields } = input;
      for (const [k, v] of Object.entries(fields)) if (v !== undefined) (row as unknown as Record<string, unknown>)[k] = v;
      if (storage_location_ids) row.storage_location_id = storage_location_ids[0]!;
      row.next_execution_at = nextExecution(row);
      const saved = await ctx.db.transaction(async (m) => {
        const job = await m.getRepository(BackupJobs).save(row);
        if (storage_location_ids) await setStorages(m, id, storage_location_ids);
        return job;
      });
      changed(id, 'updated');
      return present(saved);
    },

    async delete({ id }) {
      await load(id);
      await repo.delete(id);
      changed(id, 'deleted');
      return { id, deleted: true as const };
    },

    async previewSchedule({ schedule_cron, schedule_timezone }) {
      return {
        description: describeSchedule(schedule_cron, schedule_timezone),
        next_runs: nextRuns(schedule_cron, schedule_timezone, 5),
      };
    },
  };
}
