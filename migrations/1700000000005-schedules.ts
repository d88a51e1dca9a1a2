import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Jobs run by themselves. Each execution says why it ran (`trigger`) and, for a scheduled one, which
 * slot it is for: the unique index makes a (job, slot, attempt) run at most once, whichever instance
 * or restart tries again. A slot that came while the job was still busy is kept as a `skipped`
 * execution with its reason. Jobs get their catch-up policy, retries and random delay.
 */
export class Schedules1700000000005 implements MigrationInterface {
  name = 'Schedules1700000000005';

  async up(q: QueryRunner): Promise<void> {
    // PostgreSQL 12+ adds an enum value inside a transaction, as long as this transaction does not use it.
    await q.query(`ALTER TYPE execution_status ADD VALUE IF NOT EXISTS 'skipped'`);
    await q.query(`
      CREATE TYPE execution_trigger AS ENUM ('manual','schedule','catch_up','retry');
      ALTER TABLE backup_executions
        ADD COLUMN trigger execution_trigger NOT NULL DEFAULT 'manual',
        ADD COLUMN scheduled_for timestamptz,
        ADD COLUMN attempt smallint NOT NULL DEFAULT 1,
        ADD COLUMN retry_of uuid REFERENCES backup_executions(id) ON DELETE SET NULL;
      CREATE UNIQUE INDEX uq_backup_executions_slot ON backup_executions (job_id, scheduled_for, attempt) WHERE scheduled_for IS NOT NULL;
      CREATE TYPE catch_up_policy AS ENUM ('once','skip');
      ALTER TABLE backup_jobs
        ADD COLUMN catch_up catch_up_policy NOT NULL DEFAULT 'once',
        ADD COLUMN max_retries smallint NOT NULL DEFAULT 2,
        ADD COLUMN retry_delay_minutes smallint NOT NULL DEFAULT 5,
        ADD COLUMN jitter_minutes smallint NOT NULL DEFAULT 0;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    // An enum value cannot be dropped: the type is rebuilt without it, skipped rows becoming cancelled.
    await q.query(`
      ALTER TABLE backup_jobs DROP COLUMN catch_up, DROP COLUMN max_retries, DROP COLUMN retry_delay_minutes, DROP COLUMN jitter_minutes;
      DROP TYPE catch_up_policy;
      DROP INDEX uq_backup_executions_slot;
      ALTER TABLE backup_executions DROP COLUMN trigger, DROP COLUMN scheduled_for, DROP COLUMN attempt, DROP COLUMN retry_of;
      DROP TYPE execution_trigger;
      UPDATE backup_executions SET status = 'cancelled' WHERE status = 'skipped';
      ALTER TYPE execution_status RENAME TO execution_status_old;
      CREATE TYPE execution_status AS ENUM ('queued','running','completed','failed','cancelled');
      ALTER TABLE backup_executions ALTER COLUMN status DROP DEFAULT;
      ALTER TABLE backup_executions ALTER COLUMN status TYPE execution_status USING status::text::execution_status;
      ALTER TABLE backup_executions ALTER COLUMN status SET DEFAULT 'queued';
      DROP TYPE execution_status_old;
    `);
  }
}
