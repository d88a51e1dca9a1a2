import type { Executions } from '../executions/index.js';
import type { CoreContext } from '../kernel/context.js';
import type { Notifier } from '../notify/notifier.js';

export interface AppInfo {
  version: string;
  mode: 'desktop' | 'headless';
  dataDir: string;
  metadataDatabase: 'embedded' | 'external';
  startedAt: Date;
}

/** What every service gets: the core's parts and facts about this run. */
export interface ServiceContext extends CoreContext {
  info: AppInfo;
  executions: Executions;
  notifier: Notifier;
}

export const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
