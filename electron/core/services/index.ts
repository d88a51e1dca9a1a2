import type { Handlers } from './handlers.js';
import { backupService } from './backups.js';
import type { ServiceContext } from './context.js';
import { configService } from './config.js';
import { contentsService } from './contents.js';
import { datasourceService } from './datasources.js';
import { drillService } from './drills.js';
import { encryptionService } from './encryption.js';
import { executionService } from './executions.js';
import { jobService } from './jobs.js';
import { notificationService } from './notifications.js';
import { overviewService } from './overview.js';
import { retentionService } from './retention.js';
import { settingsService } from './settings.js';
import { storageService } from './storages.js';
import { systemService } from './system.js';

/** Together the services implement the contract. */
export function createHandlers(ctx: ServiceContext): Handlers {
  const { run, executions, ...executionHandlers } = executionService(ctx);
  return {
    system: systemService(ctx),
    datasources: datasourceService(ctx),
    storages: storageService(ctx),
    jobs: { ...jobService(ctx), ...retentionService(ctx), ...drillService(ctx), run, executions },
    executions: executionHandlers,
    backups: { ...backupService(ctx), entries: contentsService(ctx).entries },
    overview: overviewService(ctx),
    notifications: notificationService(ctx),
    settings: settingsService(ctx),
    encryption: encryptionService(ctx),
    config: configService(ctx),
  };
}
