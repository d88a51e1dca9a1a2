import { serverBackup, type ServerDatabaseBackup } from '../../shared/schemas/execution.js';
import type { BackupEntry } from '../../shared/schemas/restore.js';

/** One database of a whole server's backups: each run that held it, newest first, failed ones included. */
export interface DatabaseHistory {
  name: string;
  runs: { backup: BackupEntry; entry: ServerDatabaseBackup }[];
  /** Its newest run that backed it up: what "Restore" of this database restores by default. */
  latestGood: { backup: BackupEntry; entry: ServerDatabaseBackup } | null;
}

/** A backup's databases when it is a whole server's, else null. */
export function serverOf(backup: BackupEntry) {
  const parsed = serverBackup.safeParse((backup.metadata as { server?: unknown } | null)?.server);
  return parsed.success ? parsed.data : null;
}

/** Each database the backups hold (by name), with its history over them; `backups` come newest first. */
export function databaseHistories(backups: BackupEntry[]): DatabaseHistory[] {
  const byName = new Map<string, DatabaseHistory>();
  for (const backup of backups) {
    for (const entry of serverOf(backup)?.databases ?? []) {
      const history = byName.get(entry.name) ?? { name: entry.name, runs: [], latestGood: null };
      history.runs.push({ backup, entry });
      if (!history.latestGood && entry.status === 'completed') history.latestGood = { backup, entry };
      byName.set(entry.name, history);
    }
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The newest backup in which every one of `names` was backed up: several databases restore from one backup. */
export function newestHolding(backups: BackupEntry[], names: string[]): BackupEntry | null {
  return (
    backups.find((b) => {
      const server = serverOf(b);
      return server !== null && names.every((n) => server.databases.some((d) => d.name === n && d.status === 'completed'));
    }) ?? null
  );
}
