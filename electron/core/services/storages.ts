import { AppError } from '../../../shared/errors.js';
import { counted } from '../../../shared/format.js';
import type { StorageType } from '../../../shared/schemas/enums.js';
import { STORAGE_CONFIG, type StorageConfig, type StorageLocation, type StorageTestResult } from '../../../shared/schemas/storage.js';
import { maskSecrets } from '../../../shared/secrets.js';
import { importFromStorage } from '../catalog/import.js';
import { BackupJobStorages, StorageLocations, type StorageRow } from '../db/entities.js';
import { openStorage } from '../storage/index.js';
import { iso, type ServiceContext } from './context.js';
import type { Handlers } from './handlers.js';
import { loader, refuseFailedTest, resolveConfig, withRetypeHint, type ResolvedConfig } from './validate.js';

interface Usage {
  used_bytes: number;
  backups_count: number;
}

/** The completed backup copies on each storage (all of them, or those named), in one query. */
async function usageOf(ctx: Pick<ServiceContext, 'db'>, ids?: string[]): Promise<Map<string, Usage>> {
  const rows = await ctx.db.query<{ id: string; used_bytes: number; backups_count: number }[]>(
    `SELECT c.storage_location_id AS id, coalesce(sum(e.compressed_size_bytes), 0)::float8 AS used_bytes, count(*)::int AS backups_count
       FROM backup_copies c JOIN backup_executions e ON e.id = c.execution_id
      WHERE c.status = 'completed' AND e.operation = 'backup' ${ids ? 'AND c.storage_location_id = ANY($1)' : ''}
      GROUP BY 1`,
    ids ? [ids] : [],
  );
  return new Map(rows.map((r) => [r.id, { used_bytes: Number(r.used_bytes), backups_count: r.backups_count }]));
}

function toStorage(row: StorageRow, usage: Usage = { used_bytes: 0, backups_count: 0 }): StorageLocation {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    config: maskSecrets(row.config),
    is_default: row.is_default,
    available_space_gb: row.available_space_gb === null ? null : Number(row.available_space_gb),
    status: row.status,
    ...usage,
    created_at: row.created_at.toISOString(),
    updated_at: iso(row.updated_at)!,
  };
}

/**
 * Writes, reads back and deletes a probe. An SSH server's host key seen for the first time is
 * remembered in the config (trust on first use); a changed one makes the test fail.
 */
export async function probeStorage(type: StorageType, config: StorageConfig): Promise<{ result: StorageTestResult; config: StorageConfig }> {
  let seen: string | undefined;
  const storage = openStorage(type, config, { onHostKey: (fp) => void (seen = fp) });
  try {
    const result = await storage.test();
    return { result, config: seen && type === 'ssh' ? { ...config, host_key_fingerprint: seen } : config };
  } finally {
    await storage.close().catch(() => undefined);
  }
}

const refuse = (result: StorageTestResult): never => refuseFailedTest(result, { test: result });

export function storageService(ctx: ServiceContext): Handlers['storages'] {
  const repo = ctx.db.getRepository(StorageLocations);

  const load = loader(repo, 'Storage location');
  const present = async (row: StorageRow) => toStorage(row, (await usageOf(ctx, [row.id])).get(row.id));
  const configOf = (type: StorageType, incoming: Record<string, unknown>, stored?: StorageRow): ResolvedConfig<StorageConfig> =>
    resolveConfig(ctx.secrets, STORAGE_CONFIG[type], type, incoming, stored?.config, 'config');
  /** Probes a config; when a stored secret was withheld, the answer says to type it again. */
  const probeResolved = async (type: StorageType, { config, withheld }: ResolvedConfig<StorageConfig>) => {
    const probed = await probeStorage(type, config);
    return { ...probed, result: { ...probed.result, message: withRetypeHint(probed.result.message, withheld) } };
  };

  const statusOf = (r: StorageTestResult) => (r.ok ? 'healthy' : 'unreachable') as StorageRow['status'];
  const space = (r: StorageTestResult) => (r.available_space_gb === null ? null : r.available_space_gb.toFixed(2));

  /** Only one default: the database refuses two, so clear the old one in the same transaction. */
  async function saveWithDefault(row: StorageRow, makeDefault: boolean): Promise<StorageRow> {
    return ctx.db.transaction(async (m) => {
      if (makeDefault) {
        await m
          .createQueryBuilder()
          .update(StorageLocations)
          .set({ is_default: false })
          .where('is_default AND id <> :id', { id: row.id ?? '00000000-0000-0000-0000-000000000000' })
          .execute();
        row.is_default = true;
      }
      return m.getRepository(StorageLocations).save(row);
    });
  }

  const changed = (id: string | null, action: 'created' | 'updated' | 'deleted') => ctx.events.emit('entity.changed', { entity: 'storage', id, action });

  return {
    async list() {
      const [rows, usage] = await Promise.all([repo.find({ order: { is_default: 'DESC', name: 'ASC' } }), usageOf(ctx)]);
      return rows.map((r) => toStorage(r, usage.get(r.id)));
    },

    async get({ id }) {
      return present(await load(id));
    },

    async import({ id }) {
      const result = await importFromStorage(ctx, await load(id));
      if (result.added) ctx.events.emit('entity.changed', { entity: 'execution', id: null, action: 'created' });
      return result;
    },

    async create(input) {
      const { result, config } = await probeStorage(input.type, input.config);
      if (!result.ok && !input.save_anyway) refuse(result);
      // The first storage is the default: a job form then has something preselected.
      const makeDefault = input.is_default || (await repo.countBy({ is_default: true })) === 0;
      const row = repo.create({
        name: input.name,
        type: input.type,
        config: ctx.secrets.sealConfig(config as Record<string, unknown>),
        is_default: false,
        status: statusOf(result),
        available_space_gb: space(result),
      });
      const saved = await saveWithDefault(row, makeDefault);
      changed(saved.id, 'created');
      return present(saved);
    },

    async update(input) {
      const row = await load(input.id);
      if (input.config) {
        const { result, config } = await probeResolved(row.type, configOf(row.type, input.config, row));
        if (!result.ok && !input.save_anyway) refuse(result);
        row.config = ctx.secrets.sealConfig(config as Record<string, unknown>);
        row.status = statusOf(result);
        row.available_space_gb = space(result);
      }
      if (input.name !== undefined) row.name = input.name;
      if (input.is_default === false) row.is_default = false;
      const saved = await saveWithDefault(row, input.is_default === true);
      changed(row.id, 'updated');
      return present(saved);
    },

    async delete({ id }) {
      await load(id);
      const used = await ctx.db.getRepository(BackupJobStorages).countBy({ storage_location_id: id });
      if (used > 0) {
        throw new AppError(
          'conflict',
          `This storage is used by ${counted(used, 'backup job')}. Remove it from ${used === 1 ? 'that job' : 'those jobs'} first.`,
        );
      }
      await repo.delete(id);
      changed(id, 'deleted');
      return { id, deleted: true as const };
    },

    async test(input) {
      const stored = input.id ? await load(input.id) : undefined;
      const type = stored?.type ?? input.type!;
      const { result, config: seenConfig } = input.config
        ? await probeResolved(type, configOf(type, input.config, stored))
        : await probeStorage(type, ctx.secrets.openConfig(stored!.config) as StorageConfig);
      if (stored) {
        stored.status = statusOf(result);
        stored.available_space_gb = space(result);
        if (result.ok && !input.config) stored.config = ctx.secrets.sealConfig(seenConfig as Record<string, unknown>);
        await repo.save(stored);
        changed(stored.id, 'updated');
      }
      return result;
    },
  };
}
