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
