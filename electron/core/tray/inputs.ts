import type { DatasourceStatus, StorageStatus } from '../../../shared/schemas/enums.js';
import { unreadBySeverity } from '../db/unread.js';
import type { CoreContext } from '../kernel/context.js';
import { readSettings } from '../kernel/settings.js';
import { trayModel, type TrayInput, type TrayModel } from './model.js';

/** What the tray shows, read in a few small queries (the shell asks again on every event). */
export async function trayInput(ctx: Pick<CoreContext, 'db' | 'clock'>): Promise<Omit<TrayInput, 'startAtLogin'>> {
  const [jobs, running, datasources, storages, unread, [times], settings] = await Promise.all([
    ctx.db.query<{ id: string; name: string }[]>('SELECT id, name FROM backup_jobs ORDER BY name LIMIT 500'),
    ctx.db.query<{ job_id: string | null; job_name: string | null }[]>(
      `SELECT e.job_id, j.name AS job_name FROM backup_executions e LEFT JOIN backup_jobs j ON j.id = e.job_id
       WHERE e.status = 'running' ORDER BY e.started_at`,
    ),
    ctx.db.query<{ name: string; status: DatasourceStatus; enabled: boolean }[]>('SELECT name, status, enabled FROM datasources ORDER BY name'),
    ctx.db.query<{ name: string; status: StorageStatus }[]>('SELECT name, status FROM storage_locations ORDER BY name'),
    unreadBySeverity(ctx.db),
    ctx.db.query<{ last_backup_at: Date | null; next_run_at: Date | null }[]>(
      `SELECT (SELECT max(finished_at) FROM backup_executions WHERE operation = 'backup' AND status IN ('completed', 'partial')) AS last_backup_at,
              (SELECT min(next_execution_at) FROM backup_jobs WHERE enabled) AS next_run_at`,
    ),
    readSettings(ctx.db),
  ]);
  return {
    jobs,
    running,
    datasources,
    storages,
    unread,
    paused: settings['schedules.paused'],
    lastBackupAt: times?.last_backup_at ?? null,
    nextRunAt: times?.next_run_at ?? null,
    now: ctx.clock.now(),
  };
}

/** The tray's state, tooltip and menu now; the login item is the platform's, so the shell says it. */
export async function trayNow(ctx: Pick<CoreContext, 'db' | 'clock'>, shell: { startAtLogin: boolean }): Promise<TrayModel> {
  return trayModel({ ...(await trayInput(ctx)), startAtLogin: shell.startAtLogin });
}
