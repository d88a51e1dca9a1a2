import { BackupJobs } from '../db/entities.js';
import { policyOf, retentionDecisions } from '../executions/cleanup.js';
import { planRetention } from '../scheduler/retention.js';
import type { ServiceContext } from './context.js';
import type { Handlers } from './handlers.js';
import { notFound } from './validate.js';

/** The retention preview: what the job's rule (stored, or the one being edited) keeps and deletes among its existing backups. */
export function retentionService(ctx: ServiceContext): Pick<Handlers['jobs'], 'retentionPreview'> {
  return {
    async retentionPreview({ id, retention_policy }) {
      const job = await ctx.db.getRepository(BackupJobs).findOneBy({ id });
      if (!job) throw notFound('Backup job', id);
      const policy = retention_policy ?? policyOf(job);
      const decisions = await retentionDecisions(ctx, planRetention, job, policy);
      return { auto_delete: policy.auto_delete, kept: decisions.filter((d) => d.keep), deleted: decisions.filter((d) => !d.keep) };
    },
  };
}
