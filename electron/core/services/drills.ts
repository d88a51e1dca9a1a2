import { BackupJobs } from '../db/entities.js';
import type { Handlers } from './handlers.js';
import type { ServiceContext } from './context.js';
import { notFound } from './validate.js';

/** Drill now. */
export function drillService(ctx: ServiceContext): Pick<Handlers['jobs'], 'drill'> {
  return {
    async drill({ id }) {
      if (!(await ctx.db.getRepository(BackupJobs).existsBy({ id }))) throw notFound('Backup job', id);
      const row = await ctx.executions.drill({ jobId: id });
      return { execution_id: row.id, status: row.status };
    },
  };
}
