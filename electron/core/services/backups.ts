import { AppError } from '../../../shared/errors.js';
import type { z } from 'zod';
import { verification } from '../../../shared/schemas/execution.js';
import type { BackupEntry, backupDatasource } from '../../../shared/schemas/restore.js';
import { locateCopies, type LocatedCopy } from '../catalog/locate.js';
import { openSavedStorage } from '../catalog/storages.js';
import { BackupExecutions, Datasources, type ExecutionRow } from '../db/entities.js';
import type { ServiceContext } from './context.js';
import { newestFirst, presentExecutions } from './executions.js';
import type { Handlers } from './handlers.js';

type BackupDatasource = z.output<typeof backupDatasource>;

const CHECK_TIMEOUT_MS = 8000;

/**
 * The key a completed backup is grouped under (its datasource, or for an imported one the id it had where
 * it was made), null for any other execution: a column the database computes (migration 1700000000009).
 */
const GROUP = 'e.backup_group';

interface GroupRow {
  key: string;
  count: number;
  stored: string;
  newest_at: Date;
  recorded_name: string | null;
  recorded_type: string | null;
}

export function backupService(ctx: ServiceContext): Omit<Handlers['backups'], 'entries'> {
  const repo = ctx.db.getRepository(BackupExecutions);

  /** A backup that exists: pins are for what retention could delete. */
  async function pinnable(id: string): Promise<ExecutionRow> {
    const row = await repo.findOneBy({ id });
    if (!row || row.operation !== 'backup') throw new AppError('not_found', `Backup ${id} does not exist`);
    if (row.status !== 'completed' && row.status !== 'partial')
      throw new AppError('validation_error', `Only a completed backup can be pinned; this one ${row.status === 'failed' ? 'failed' : `is ${row.status}`}`);
    if (row.deleted_at) throw new AppError('conflict', 'This backup was deleted: there is nothing left to keep');
    return row;
  }

  /** The backup as it is now, told to every window (its list and pages re-query). */
  async function changedBackup(id: string) {
    ctx.events.emit('entity.changed', { entity: 'execution', id, action: 'updated' });
    const [out] = await presentExecutions(ctx, [(await repo.findOneBy({ id }))!]);
    return out!;
  }

  /** Each group's count and stored bytes, and what its newest backup recorded. */
  async function summarize(key?: string): Promise<BackupDatasource[]> {
    const where = key ? `${GROUP} = $1` : `${GROUP} IS NOT NULL`;
    const params = key ? [key] : [];
    const [groups, datasources] = await Promise.all([
      ctx.db.query(
        // One scan counts each group; its newest backup is then one index lookup per group.
        `SELECT t.key, t.count, t.stored, n.newest_at, n.recorded_name, n.recorded_type
         FROM (SELECT ${GROUP} AS key, count(*)::int AS count, COALESCE(sum(e.compressed_size_bytes), 0)::text AS stored
               FROM backup_executions e WHERE ${where} GROUP BY 1) t
         CROSS JOIN LATERAL (
               SELECT COALESCE(e.finished_at, e.created_at) AS newest_at,
                      e.metadata->>'datasource_name' AS recorded_name, e.metadata->>'datasource_type' AS recorded_type
               FROM backup_executions e WHERE ${GROUP} = t.key ORDER BY e.created_at DESC, e.id DESC LIMIT 1) n
         ORDER BY n.newest_at DESC`,
        params,
      ) as Promise<GroupRow[]>,
      ctx.db.getRepository(Datasources).find(),
    ]);
    return groups.map((g) => {
      const ds = datasources.find((d) => d.id === g.key);
      return {
        datasource_id: g.key,
        datasource_name: ds?.name ?? g.recorded_name ?? 'Unknown datasource',
        datasource_type: ds?.type ?? g.recorded_type ?? 'unknown',
        configured: Boolean(ds),
        backups_count: g.count,
        last_backup_at: g.newest_at.toISOString(),
        total_stored_bytes: Number(g.stored),
      };
    });
  }

  /** Each completed copy checked against its storage: are all parts there, at their recorded size? */
  async function availability(rows: ExecutionRow[]): Promise<Map<string, BackupEntry['availability']>> {
    const where = await locateCopies(
      ctx,
      rows.map((r) => r.id),
    );
    const located = rows.map((r) => where.get(r.id) ?? []);
    const byStorage = new Map<string, { storage: LocatedCopy['storage']; items: { executionId: string; chunks: LocatedCopy['chunks'] }[] }>();
    located.forEach((copies, i) => {
      for (const c of copies) {
        const entry = byStorage.get(c.storage.id) ?? { storage: c.storage, items: [] };
        entry.items.push({ executionId: rows[i]!.id, chunks: c.chunks });
        byStorage.set(c.storage.id, entry);
      }
    });
    const out = new Map<string, BackupEntry['availability']>(rows.map((r) => [r.id, []]));
    await Promise.all(
      [...byStorage.values()].map(async ({ storage: row, items }) => {
        const storage = openSavedStorage(ctx, row);
        const check = async () => {
          for (const item of items) {
            let status: 'available' | 'missing' = 'available';
            let message: string | null = null;
            for (const chunk of item.chunks) {
              const stat = await storage.stat(chunk.file_path);
              if (!stat || stat.size !== Number(chunk.size_bytes)) {
                status = 'missing';
                message = `${chunk.file_path.split('/').pop()} is ${stat ? 'the wrong size' : 'missing'}`;
                break;
              }
            }
            out.get(item.executionId)!.push({ storage_location_id: row.id, storage_name: row.name, status, message });
          }
        };
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            check(),
            new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${CHECK_TIMEOUT_MS / 1000} s`)), CHECK_TIMEOUT_MS))),
          ]);
        } catch (e) {
          for (const item of items) {
            const list = out.get(item.executionId)!;
            if (!list.some((a) => a.storage_location_id === row.id))
              list.push({ storage_location_id: row.id, storage_name: row.name, status: 'unreachable', message: (e as Error).message });
          }
        } finally {
          clearTimeout(timer);
          await storage.close().catch(() => undefined);
        }
      }),
    );
    return out;
  }

  return {
    async datasources() {
      return summarize();
    },

    async datasource({ id, before, limit }) {
      const [summary] = await summarize(id);
      if (!summary) {
        const ds = await ctx.db.getRepository(Datasources).findOneBy({ id });
        if (!ds) throw new AppError('not_found', `No backups of datasource ${id}`);
        return {
          datasource_id: id,
          datasource_name: ds.name,
          datasource_type: ds.type,
          configured: true,
          backups_count: 0,
          last_backup_at: null,
          total_stored_bytes: 0,
          backups: [],
        };
      }
      const shown = await newestFirst(repo, repo.createQueryBuilder('e').where(`${GROUP} = :id`, { id }), { limit, before });
      const [presented, live] = await Promise.all([presentExecutions(ctx, shown), availability(shown)]);
      return {
        ...summary,
        backups: presented.map((e) => {
          const v = verification.safeParse(e.metadata?.verification);
          return { ...e, availability: live.get(e.id) ?? [], verification: v.success ? v.data : null };
        }),
      };
    },

    async restore(input) {
      const row = await ctx.executions.restore(input);
      return { execution_id: row.id, status: row.status };
    },

    async verify({ id, method, identity }) {
      const row = await ctx.executions.verify(id, method, { identity });
      return { execution_id: row.id, status: row.status };
    },

    async pin({ id, reason }) {
      const row = await pinnable(id);
      await repo.update(id, { pinned_at: row.pinned_at ?? ctx.clock.now(), pin_reason: reason });
      return changedBackup(id);
    },

    async unpin({ id }) {
      await pinnable(id);
      await repo.update(id, { pinned_at: null, pin_reason: null });
      return changedBackup(id);
    },

    async delete({ id }) {
      const row = await ctx.executions.deleteBackup(id);
      return { execution_id: row.id, status: row.status };
    },
  };
}
