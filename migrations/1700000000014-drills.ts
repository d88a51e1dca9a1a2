import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Drills (issue 21): an execution kind of its own, and a job's drill schedule.
 * - `drill_cron` (null: no scheduled drills), `drill_pick` (which backup), `drill_assertions` (SQL that must
 *   return true on the restored copy), `next_drill_at` (the persisted due time, as `next_execution_at` is for backups).
 * - A slot is unique per job *and kind*: a weekly drill at the same minute as a daily backup is a slot of its own.
 */
export class Drills1700000000014 implements MigrationInterface {
  name = 'Drills1700000000014';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TYPE execution_operation ADD VALUE IF NOT EXISTS 'drill'`);
    await q.query(`
      ALTER TABLE backup_jobs
        ADD COLUMN drill_cron varchar(100),
        ADD COLUMN drill_pick varchar(10) NOT NULL DEFAULT 'latest' CHECK (drill_pick IN ('latest', 'random', 'oldest')),
        ADD COLUMN drill_assertions jsonb NOT NULL DEFAULT '[]',
        ADD COLUMN next_drill_at timestamptz;
      DROP INDEX uq_backup_executions_slot;
      CREATE UNIQUE INDEX uq_backup_executions_slot ON backup_executions (job_id, operation, scheduled_for, attempt) WHERE scheduled_for IS NOT NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    // An enum value cannot be dropped: the drills' rows go, and 'drill' stays unused in the type.
    await q.query(`
      DELETE FROM backup_executions WHERE operation = 'drill';
      DROP INDEX uq_backup_executions_slot;
      CREATE UNIQUE INDEX uq_backup_executions_slot ON backup_executions (job_id, scheduled_for, attempt) WHERE scheduled_for IS NOT NULL;
      ALTER TABLE backup_jobs DROP COLUMN drill_cron, DROP COLUMN drill_pick, DROP COLUMN drill_assertions, DROP COLUMN next_drill_at;
    `);
  }
}
