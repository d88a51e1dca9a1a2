import type { Handlers } from './handlers.js';
import type { ServiceContext } from './context.js';

export function systemService(ctx: ServiceContext): Handlers['system'] {
  return {
    async health() {
      await ctx.db.query('SELECT 1');
      return {
        status: 'ok' as const,
        version: ctx.info.version,
        uptime_seconds: Math.round((Date.now() - ctx.info.startedAt.getTime()) / 1000),
        metadata_database: ctx.info.metadataDatabase,
      };
    },
    async info() {
      return {
        version: ctx.info.version,
        mode: ctx.info.mode,
        data_dir: ctx.info.dataDir,
        metadata_database: ctx.info.metadataDatabase,
      };
    },
  };
}
