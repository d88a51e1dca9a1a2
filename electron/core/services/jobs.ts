import { In, type EntityManager } from 'typeorm';
import { describeSchedule, nextRuns } from '../../../shared/cron.js';
import { AppError } from '../../../shared/errors.js';
import type { LastDrill } from '../../../shared/schemas/drill.js';
import type { Job } from '../../../shared/schemas/job.js';
import { lastDrills } from '../catalog/drills.js';
import { nextDrill } from '../scheduler/drill-slots.js';
import { encryptionIsSetUp } from '../catalog/keys.js';
import { BackupJobs, BackupJobStorages, Datasources, StorageLocations, type JobRow } from '../db/entities.js';
import { readSettings } from '../kernel/settings.js';
import { nextExecution } from '../scheduler/slots.js';
import type { Handlers } from './handlers.js';
import { iso, type ServiceContext } from './context.js';
import { notFound } from './validate.js';

type LastResult = Job['last_result'];

function toJob(row: JobRow, storageIds: string[], last: LastResult, drill: LastDrill | null): Job {
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
    catch_up: row.catch_up,
    max_retries: row.max_retries,
    retry_delay_minutes: row.retry_delay_minutes,
    jitter_minutes: row.jitter_minutes,
    retention_policy: row.retention_policy,
    backup_options: row.backup_options,
    last_execution_at: iso(row.last_execution_at),
    next_execution_at: iso(row.next_execution_at),
    last_result: last,
    drill_cron: row.drill_cron,
    drill_pick: row.drill_pick,
    drill_assertions: row.drill_assertions,
    next_drill_at: iso(row.next_drill_at),
    last_drill: drill,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/** `run` and `executions` live with the executions service, `retentionPreview` with retention. */
export function jobService(ctx: ServiceContext): Omit<Handlers['jobs'], 'run' | 'executions' | 'retentionPreview' | 'drill'> {
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

  /** Each job's latest backup run (skipped slots included: they are results too). */
  async function lastResults(jobIds: string[]): Promise<Map<string, NonNullable<LastResult>>> {
    if (jobIds.length === 0) return new Map();
    const rows = (await ctx.db.query(
      `SELECT DISTINCT ON (job_id) id, job_id, status, trigger, COALESCE(finished_at, started_at, created_at) AS at, error_message
       FROM backup_executions WHERE job_id = ANY($1) AND operation = 'backup' ORDER BY job_id, created_at DESC`,
      [jobIds],
    )) as {
      id: string;
      job_id: string;
      status: NonNullable<LastResult>['status'];
      trigger: NonNullable<LastResult>['trigger'];
      at: Date;
      error_message: string | null;
    }[];
    return new Map(
      rows.map((r) => [r.job_id, { execution_id: r.id, status: r.status, trigger: r.trigger, at: r.at.toISOString(), error_message: r.error_message }]),
    );
  }

  async function present(row: JobRow): Promise<Job> {
    const [storages, last, drills] = await Promise.all([storagesOf([row.id]), lastResults([row.id]), lastDrills(ctx, [row.id])]);
    return toJob(row, storages.get(row.id) ?? [], last.get(row.id) ?? null, drills.get(row.id) ?? null);
  }

  /** Recomputed on every create and update: a job's next run is always the truth. */
  async function nextOf(row: JobRow): Promise<Date | null> {
    const paused = (await readSettings(ctx.db))['schedules.paused'];
    row.next_drill_at = nextDrill(row, ctx.clock.now(), paused);
    return nextExecution(row, ctx.clock.now(), paused);
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

  /**
   * A new job encrypts once encryption is set up, unless it says otherwise; an edit that leaves the choice out keeps
   * the job's. `age` without keys is refused now rather than failing at every run.
   */
  async function withEncryption<O extends { encryption?: 'age' | 'none' }>(options: O, stored: Record<string, unknown> | null): Promise<O> {
    const setUp = await encryptionIsSetUp(ctx);
    const kept = stored?.encryption === 'age' || stored?.encryption === 'none' ? stored.encryption : undefined;
    const encryption = options.encryption ?? (stored ? (kept ?? 'none') : setUp ? 'age' : 'none');
    if (encryption === 'age' && !setUp) {
      const message = 'Encryption is not set up yet: set it up in Settings → Encryption first, or choose no encryption';
      throw new AppError('validation_error', message, [{ path: 'backup_options.encryption', message }]);
    }
    return { ...options, encryption };
  }

  const changed = (id: string | null, action: 'created' | 'updated' | 'deleted') => ctx.events.emit('entity.changed', { entity: 'job', id, action });

  return {
    async list() {
      const rows = await repo.find({ order: { name: 'ASC' } });
      const ids = rows.map((r) => r.id);
      const [storages, last, drills] = await Promise.all([storagesOf(ids), lastResults(ids), lastDrills(ctx, ids)]);
      return rows.map((r) => toJob(r, storages.get(r.id) ?? [], last.get(r.id) ?? null, drills.get(r.id) ?? null));
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
          catch_up: input.catch_up,
          max_retries: input.max_retries,
          retry_delay_minutes: input.retry_delay_minutes,
          jitter_minutes: input.jitter_minutes,
          retention_policy: input.retention_policy,
          backup_options: await withEncryption(input.backup_options, null),
          drill_cron: input.drill_cron,
          drill_pick: input.drill_pick,
          drill_assertions: input.drill_assertions,
        });
        row.next_execution_at = await nextOf(row);
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
      if (fields.backup_options) fields.backup_options = await withEncryption(fields.backup_options, row.backup_options);
      for (const [k, v] of Object.entries(fields)) if (v !== undefined) (row as unknown as Record<string, unknown>)[k] = v;
      if (storage_location_ids) row.storage_location_id = storage_location_ids[0]!;
      row.next_execution_at = await nextOf(row);
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
        next_runs: nextRuns(schedule_cron, schedule_timezone, 5, ctx.clock.now()),
      };
    },
  };
}
