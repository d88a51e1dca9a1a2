import type { Handlers } from '../dispatch.js';
import type { ServiceContext } from './context.js';
import { datasourceService } from './datasources.js';
import { jobService } from './jobs.js';
import { settingsService } from './settings.js';
import { storageService } from './storages.js';
import { systemService } from './system.js';

/** Together the services implement the contract. */
export function createHandlers(ctx: ServiceContext): Handlers {
  return {
    system: systemService(ctx),
    datasources: datasourceService(ctx),
    storages: storageService(ctx),
    jobs: jobService(ctx),
    settings: settingsService(ctx),
  };
}
