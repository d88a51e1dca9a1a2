import type { ReactNode } from 'react';
import type { DatasourceType, StorageType } from '../../shared/schemas/enums.js';
import type { Execution } from '../../shared/schemas/execution.js';
import { CloudIcon, DatabaseIcon, FileIcon, FolderIcon, TerminalIcon } from './components/icons.js';

export const DATASOURCE_TYPE_LABELS: Record<DatasourceType, string> = {
  postgres: 'PostgreSQL',
  mysql: 'MySQL',
  mariadb: 'MariaDB',
  mongodb: 'MongoDB',
  sqlserver: 'SQL Server',
  sqlite: 'SQLite',
  files: 'Files & folders',
};

export const DATASOURCE_TYPE_ICONS: Record<DatasourceType, ReactNode> = {
  postgres: <DatabaseIcon />,
  mysql: <DatabaseIcon />,
  mariadb: <DatabaseIcon />,
  mongodb: <DatabaseIcon />,
  sqlserver: <DatabaseIcon />,
  sqlite: <FileIcon />,
  files: <FolderIcon />,
};

export const STORAGE_TYPE_LABELS: Record<StorageType, string> = {
  local: 'Local folder',
  ssh: 'SFTP (SSH)',
  s3: 'Amazon S3',
  minio: 'MinIO',
  backblaze: 'Backblaze B2',
};

export const STORAGE_TYPE_ICONS: Record<StorageType, ReactNode> = {
  local: <FolderIcon />,
  ssh: <TerminalIcon />,
  s3: <CloudIcon />,
  minio: <CloudIcon />,
  backblaze: <CloudIcon />,
};

/** Where each storage type keeps its copies, in one line for a list. */
export function storageWhere(type: StorageType, config: Record<string, unknown>): string {
  const s = (k: string) => (typeof config[k] === 'string' ? (config[k] as string) : '');
  switch (type) {
    case 'local':
      return s('path');
    case 'ssh':
      return `${s('username')}@${s('host')}:${s('remote_path')}`;
    case 's3':
      return `s3://${s('bucket')}/${s('prefix')}`;
    case 'minio':
      return `${s('endpoint')}/${s('bucket')}/${s('prefix')}`;
    case 'backblaze':
      return `b2://${s('bucket_name')}/${s('prefix')}`;
  }
}

/** Where a datasource lives, in one line for a list. */
export function datasourceWhere(type: DatasourceType, config: Record<string, unknown>): string {
  const s = (k: string) => (config[k] === undefined || config[k] === null ? '' : String(config[k]));
  if (type === 'sqlite') return s('file_path');
  if (type === 'files') return s('source_path');
  return `${s('host')}:${s('port')}/${s('database')}`;
}

/** What a user calls an execution: "Nightly shop", "Restore · Nightly shop", "Verify (checksum) · Nightly shop", "Cleanup · Nightly shop", "Drill · Nightly shop". */
export function executionTitle(e: Pick<Execution, 'operation' | 'job_name' | 'metadata'>): string {
  const job = e.job_name ?? 'Imported backup';
  if (e.operation === 'restore') return `Restore · ${job}`;
  if (e.operation === 'verify') return `Verify (${String(e.metadata?.method ?? 'checksum')}) · ${job}`;
  if (e.operation === 'cleanup') return `Cleanup · ${job}`;
  if (e.operation === 'drill') return `Drill · ${job}`;
  return e.metadata?.safety_for ? `Safety backup · ${job}` : job;
}

/** Why a run started, in the user's words. */
export function triggerLabel(e: Pick<Execution, 'trigger' | 'attempt' | 'operation'>): string {
  if (e.trigger === 'retry') return `Retry ${e.attempt - 1}`;
  return {
    manual: 'Run by hand',
    schedule: e.operation === 'cleanup' ? 'Daily cleanup' : 'On schedule',
    catch_up: 'Catch-up (missed while away)',
    after_backup: 'After a backup',
  }[e.trigger];
}

/** A backup whose files are gone: "Deleted by retention on 7 Dec"; null while it exists. */
export function deletedLabel(e: Pick<Execution, 'deleted_at' | 'deleted_by'>): string | null {
  if (!e.deleted_at) return null;
  const at = new Date(e.deleted_at);
  const day = at.toLocaleDateString(undefined, {
    day: 'numeric',
    month: 'short',
    ...(at.getFullYear() !== new Date().getFullYear() ? { year: 'numeric' } : {}),
  });
  return `Deleted ${e.deleted_by?.by === 'user' ? 'by hand' : 'by retention'} on ${day}`;
}
