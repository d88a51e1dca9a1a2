// Words and options that fit each kind of datasource: a folder holds files and a size, a database
// tables and rows. Used by the UI and by the core's own texts (logs, notifications).
import { counted } from './format.js';

/** A folder backup: files, folders and sizes, never tables, rows or a server version. */
export const isFolder = (type: string | null | undefined): boolean => type === 'files';

/** Which of a job's backup options mean something for a datasource type. */
export function backupOptionsFor(type: string | null | undefined): { tables: boolean; parallel: boolean } {
  return { tables: type === 'postgres' || type === 'mysql' || type === 'mariadb', parallel: type === 'postgres' };
}

/**
 * What a datasource holds, in its own words: "55 files" for a folder, "12 tables, about 1,204 rows" for a
 * database (a folder's summary counts files as its rows).
 */
export function holdings(type: string | null | undefined, c: { tables?: number | null; rows?: number | null; estimated?: boolean }): string {
  if (isFolder(type)) return counted(c.rows ?? 0, 'file');
  const rows = c.rows === null || c.rows === undefined ? null : `${c.estimated ? 'about ' : ''}${counted(c.rows, 'row')}`;
  return [counted(c.tables ?? 0, 'table'), rows].filter(Boolean).join(', ');
}

const NOTIFICATION_TYPE_WORDS: Record<string, string> = {
  backup_success: 'Backup completed',
  backup_failed: 'Backup failed',
  connection_lost: 'Connection lost',
  connection_restored: 'Connection restored',
  storage_full: 'Storage full',
  storage_unreachable: 'Storage unreachable',
  health_degraded: 'Health degraded',
  cleanup_completed: 'Cleanup',
  restore_completed: 'Restore completed',
  backup_overdue: 'Backup overdue',
  delivery_failed: 'Delivery failed',
};

/** A notification type in words; a type this page does not know yet still reads ("backup_overdue" → "Backup overdue"). */
export function notificationTypeLabel(type: string): string {
  const words = NOTIFICATION_TYPE_WORDS[type] ?? type.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * What a downloaded backup is called: `<job>-<YYYY-MM-DD_HHmmss>.<ext>` ("Nightly shop-2026-12-07_023000.dump.gz"),
 * the date being its folder's on the storage. Only letters, digits, spaces and `-_.()` of the job's name
 * are kept: no path, quote or control character reaches a file name or a header.
 */
export function backupFileName(b: { job_name: string | null; backup_path: string | null; created_at: string; artifact: string }): string {
  const job =
    (b.job_name ?? 'backup')
      .normalize('NFC')
      .replace(/[^\p{L}\p{N} _().-]+/gu, '-')
      .replace(/\s+/g, ' ')
      .replace(/-{2,}/g, '-')
      .replace(/^[\s.-]+|[\s.-]+$/g, '')
      .slice(0, 80) || 'backup';
  const folder = b.backup_path?.split('/').pop();
  const stamp = folder && /^\d{4}-\d{2}-\d{2}_\d{6}/.test(folder) ? folder : b.created_at.slice(0, 19).replace(/:/g, '').replace('T', '_');
  const ext = b.artifact.replace(/^backup\./, '').replace(/[^A-Za-z0-9.]+/g, '');
  return `${job}-${stamp}${ext ? `.${ext}` : ''}`;
}
