import { AppError } from '../../../shared/errors.js';
import type { z } from 'zod';
import { verification } from '../../../shared/schemas/execution.js';
import type { BackupEntry, backupDatasource } from '../../../shared/schemas/restore.js';
import { locateBackup, type LocatedCopy } from '../catalog/locate.js';
import { openSavedStorage } from '../catalog/storages.js';
import { BackupExecutions, Datasources, type ExecutionRow } from '../db/entities.js';
import { metadataOf } from '../db/metadata.js';
import type { ServiceContext } from './context.js';
import { presentExecutions } from './executions.js';
import type { Handlers } from './handlers.js';

type BackupDatasource = z.output<typeof backupDatasource>;

const CHECK_TIMEOUT_MS = 8000;
const SHOWN_BACKUPS = 100;

/** The key a backup is grouped under: its datasource, or for an imported one the id it had where it was made. */
function groupOf(r: ExecutionRow): string | null {
  const m = metadataOf(r);
  return r.datasource_id ?? (m.operation === 'backup' ? (m.original_datasource_id ?? null) : null);
}

export function backupService(ctx: ServiceContext): Handlers['backups'] {
  const repo = ctx.db.getRepository(BackupExecutions);

  async function completedBackups(): Promise<ExecutionRow[]> {
    return repo.createQueryBuilder('e').where("e.status = 'completed'").andWhere("e.operation = 'backup'").orderBy('e.created_at', 'DESC').getMany();
  }

  async function summarize(rows: ExecutionRow[]): Promise<BackupDatasource[]> {
    const datasources = await ctx.db.getRepository(Datasources).find();
    const groups = new Map<string, ExecutionRow[]>();
    for (const r of rows) {
      const key = groupOf(r);
      if (key) groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    return [...groups.entries()].map(([id, list]) => {
      const ds = datasources.find((d) => d.id === id);
      const newest = list[0]!;
      const recorded = metadataOf(newest);
      return {
        datasource_id: id,
        datasource_name: ds?.name ?? recorded.datasource_name ?? 'Unknown datasource',
        datasource_type: ds?.type ?? recorded.datasource_type ?? 'unknown',
        configured: Boolean(ds),
        backups_count: list.length,
        last_backup_at: (newest.finished_at ?? newest.created_at).toISOString(),
        total_stored_bytes: list.reduce((n, r) => n + Number(r.compressed_size_bytes ?? 0), 0),
      };
    });
  }

  /** Each completed copy checked against its storage: are all parts there, at their recorded size? */
  async function availability(rows: ExecutionRow[]): Promise<Map<string, BackupEntry['availability']>> {
    const located = await Promise.all(rows.map((r) => locateBackup(ctx, r.id).then((l) => l.copies)));
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
      return summarize(await completedBackups());
    },

    async datasource({ id }) {
      const rows = (await completedBackups()).filter((r) => groupOf(r) === id);
      const [summary] = await summarize(rows);
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
      const shown = rows.slice(0, SHOWN_BACKUPS);
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

    async verify({ id, method }) {
      const row = await ctx.executions.verify(id, method);
      return { execution_id: row.id, status: row.status };
    },
  };
}
