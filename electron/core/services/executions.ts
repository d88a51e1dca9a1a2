import { In, type Repository, type SelectQueryBuilder } from 'typeorm';
import { AppError } from '../../../shared/errors.js';
import type { Execution, ExecutionDetails } from '../../../shared/schemas/execution.js';
import { BackupChunks, BackupCopies, BackupExecutions, BackupJobs, Datasources, StorageLocations, type ExecutionRow } from '../db/entities.js';
import type { Handlers } from './handlers.js';
import { exportArtifact } from '../catalog/artifact.js';
import { givenIdentities } from '../catalog/keys.js';
import { metadataOf } from '../db/metadata.js';
import { restoredByHand } from '../notify/messages.js';
import { drillReportHtml, drillReportName } from '../executions/drill-report.js';
import { iso, type ServiceContext } from './context.js';
import { loader, notFound } from './validate.js';

const num = (v: string | number | null) => (v === null ? null : Number(v));
const distinctIds = (ids: (string | null)[]) => [...new Set(ids.filter((id): id is string => id !== null))];

/**
 * One page of executions, newest first: the `limit` rows after the execution `before` in the order
 * (created_at, id), read straight from an index however deep the page. A row never shows twice or is
 * skipped while new runs are added at the top.
 */
export async function newestFirst(
  repo: Repository<ExecutionRow>,
  query: SelectQueryBuilder<ExecutionRow>,
  page: { limit: number; before?: string | undefined },
): Promise<ExecutionRow[]> {
  const alias = query.alias;
  if (page.before) {
    if (!(await repo.existsBy({ id: page.before })))
      throw new AppError('not_found', `The list changed since it was shown (execution ${page.before} was deleted): reload it`);
    query.andWhere(`(${alias}.created_at, ${alias}.id) < (SELECT c.created_at, c.id FROM backup_executions c WHERE c.id = :before)`, { before: page.before });
  }
  return query.orderBy(`${alias}.created_at`, 'DESC').addOrderBy(`${alias}.id`, 'DESC').limit(page.limit).getMany();
}

/** Executions with their job's and datasource's names and each storage copy. */
export async function presentExecutions(ctx: Pick<ServiceContext, 'db'>, rows: ExecutionRow[]): Promise<Execution[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const [jobs, datasources, copies, cleanups] = await Promise.all([
    ctx.db.getRepository(BackupJobs).findBy({ id: In(distinctIds(rows.map((r) => r.job_id))) }),
    ctx.db.getRepository(Datasources).findBy({ id: In(distinctIds(rows.map((r) => r.datasource_id))) }),
    ctx.db.getRepository(BackupCopies).find({ where: { execution_id: In(ids) }, order: { created_at: 'ASC' } }),
    // Who deleted a deleted backup: a cleanup a user asked for (manual), or the job's retention.
    ctx.db.getRepository(BackupExecutions).find({ select: { id: true, trigger: true }, where: { id: In(distinctIds(rows.map((r) => r.deleted_by))) } }),
  ]);
  const storages = await ctx.db.getRepository(StorageLocations).findBy({ id: In([...new Set(copies.map((c) => c.storage_location_id))]) });
  return rows.map((r) => {
    const ds = datasources.find((d) => d.id === r.datasource_id);
    const metadata = metadataOf(r);
    return {
      id: r.id,
      job_id: r.job_id,
      job_name: jobs.find((j) => j.id === r.job_id)?.name ?? metadata.job_name ?? null,
      datasource_id: r.datasource_id,
      datasource_name: ds?.name ?? metadata.datasource_name ?? null,
      datasource_type: ds?.type ?? metadata.datasource_type ?? null,
      storage_location_id: r.storage_location_id,
      operation: r.operation,
      status: r.status,
      trigger: r.trigger,
      scheduled_for: iso(r.scheduled_for),
      attempt: r.attempt,
      retry_of: r.retry_of,
      started_at: iso(r.started_at),
      finished_at: iso(r.finished_at),
      duration_seconds: r.duration_seconds,
      size_bytes: num(r.size_bytes),
      compressed_size_bytes: num(r.compressed_size_bytes),
      backup_path: r.backup_path,
      backup_type: r.backup_type,
      files_count: r.files_count,
      error_message: r.error_message,
      metadata,
      created_at: r.created_at.toISOString(),
      deleted_at: iso(r.deleted_at),
      pin: r.pinned_at ? { at: r.pinned_at.toISOString(), reason: r.pin_reason ?? '' } : null,
      deleted_by: r.deleted_by
        ? { execution_id: r.deleted_by, by: cleanups.find((c) => c.id === r.deleted_by)?.trigger === 'manual' ? 'user' : 'retention' }
        : null,
      copies: copies
        .filter((c) => c.execution_id === r.id)
        .map((c) => {
          const s = storages.find((x) => x.id === c.storage_location_id);
          return {
            storage_location_id: c.storage_location_id,
            storage_name: s?.name ?? 'deleted storage',
            storage_type: s?.type ?? 'unknown',
            status: c.status,
            backup_path: c.backup_path,
            error_message: c.error_message,
          };
        }),
    };
  });
}

export function executionService(ctx: ServiceContext): Handlers['executions'] & Pick<Handlers['jobs'], 'run' | 'executions'> {
  const repo = ctx.db.getRepository(BackupExecutions);

  const load = loader(repo, 'Execution');
  const filtered = (jobId?: string, status?: ExecutionRow['status']) => {
    const query = repo.createQueryBuilder('e');
    if (jobId) query.andWhere('e.job_id = :jobId', { jobId });
    if (status) query.andWhere('e.status = :status', { status });
    return query;
  };

  return {
    async run({ id }) {
      if (!(await ctx.db.getRepository(BackupJobs).existsBy({ id }))) throw notFound('Backup job', id);
      const row = await ctx.executions.backup(id);
      return { execution_id: row.id, status: row.status };
    },

    async drillReport({ id }) {
      const row = await load(id);
      const metadata = metadataOf(row);
      if (metadata.operation !== 'drill') throw new AppError('validation_error', 'This run is not a drill: only a drill has a report');
      if (row.status === 'queued' || row.status === 'running') throw new AppError('conflict', 'This drill has not ended yet');
      const record = { ...row, metadata };
      return { file_name: drillReportName(record), html: drillReportHtml(record) };
    },

    async executions({ id, status, limit, before }) {
      if (!(await ctx.db.getRepository(BackupJobs).existsBy({ id }))) throw notFound('Backup job', id);
      return presentExecutions(ctx, await newestFirst(repo, filtered(id, status), { limit, before }));
    },

    async list({ job_id, status, limit, before }) {
      return presentExecutions(ctx, await newestFirst(repo, filtered(job_id, status), { limit, before }));
    },

    async get({ id }): Promise<ExecutionDetails> {
      const row = await load(id);
      const [base] = await presentExecutions(ctx, [row]);
      const chunks = await ctx.db.getRepository(BackupChunks).find({ where: { execution_id: id }, order: { chunk_number: 'ASC' } });
      return {
        ...base!,
        error_stack: row.error_stack,
        chunks: chunks.map((c) => ({ chunk_number: c.chunk_number, file_path: c.file_path, size_bytes: Number(c.size_bytes), checksum: c.checksum })),
      };
    },

    async cancel({ id }) {
      const row = await load(id);
      if (row.status !== 'queued' && row.status !== 'running') {
        throw new AppError(
          'validation_error',
          `This execution already ${row.status === 'completed' ? 'completed' : `ended (${row.status})`}: nothing to cancel`,
        );
      }
      await ctx.executions.cancel(id);
      const [out] = await presentExecutions(ctx, [await load(id)]);
      return out!;
    },

    async export({ id, destination_path, decrypt, identity }) {
      return exportArtifact(ctx, id, destination_path, { decrypt, keys: await givenIdentities(identity) });
    },

    async markRestored({ id, restored_at, restored_by, reason }) {
      const row = await load(id);
      const [backup] = await presentExecutions(ctx, [row]);
      const when = restored_at ?? ctx.clock.now().toISOString();
      return ctx.notifier.notify(
        restoredByHand({
          datasourceId: row.datasource_id,
          datasourceName: backup!.datasource_name,
          executionId: id,
          backupTakenAt: row.created_at,
          restoredAt: when,
          by: restored_by ?? null,
          reason: reason ?? null,
        }),
      );
    },
  };
}
