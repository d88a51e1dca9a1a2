import type { DataSource } from 'typeorm';
import type { BackupQueue } from '../backup/queue.js';
import type { EventBus } from '../events.js';
import type { SecretBox } from '../secrets.js';

export interface AppInfo {
  version: string;
  mode: 'desktop' | 'headless';
  dataDir: string;
  metadataDatabase: 'embedded' | 'external';
  startedAt: Date;
}

/** What every service gets: the metadata store, the secret box, the event bus, facts about this run. */
export interface ServiceContext {
  db: DataSource;
  secrets: SecretBox;
  events: EventBus;
  info: AppInfo;
  backups: BackupQueue;
}

export const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
