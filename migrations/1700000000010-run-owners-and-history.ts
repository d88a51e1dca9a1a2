import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * History survives retention, and a run knows the process that runs it.
 * - `deleted_at`, `deleted_by`: retention (or a user) removes a backup's files and copies, never its run;
 *   `deleted_by` is the cleanup run that removed them. The Backups tab's grouping key leaves them out.
 * - `instance`: the process that claimed a running run (machine, boot, pid, start time), so a run whose
 *   process died on this machine is failed at once instead of after its lease.
 * - trigger `after_backup`: the verification and cleanup that follow a backup. Cleanups said why they ran
 *   in their metadata (`after_backup`, `daily`); that moves to the column (`daily` is `schedule`). A
 *   verification queued within seconds of its backup's end followed it. The enum is rebuilt rather than
 *   extended, since this same transaction writes the new value.
 */
export class RunOwnersAndHistory1700000000010 implements MigrationInterface {
  name = 'RunOwnersAndHistory1700000000010';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TYPE execution_trigger RENAME TO execution_trigger_old;
      CREATE TYPE execution_trigger AS ENUM ('manual','schedule','catch_up','retry','after_backup');
      ALTER TABLE backup_executions ALTER COLUMN trigger DROP DEFAULT;
      ALTER TABLE backup_executions ALTER COLUMN trigger TYPE execution_trigger USING trigger::text::execution_trigger;
      ALTER TABLE backup_executions ALTER COLUMN trigger SET DEFAULT 'manual';
      DROP TYPE execution_trigger_old;

      UPDATE backup_executions SET trigger = CASE metadata->>'trigger' WHEN 'daily' THEN 'schedule'::execution_trigger ELSE 'after_backup'::execution_trigger END,
                                   metadata = metadata - 'trigger'
        WHERE operation = 'cleanup';
      UPDATE backup_executions v SET trigger = 'after_backup'
        FROM backup_executions b
        WHERE v.operation = 'verify' AND b.id::text = v.metadata->>'source_execution_id'
          AND b.finished_at IS NOT NULL AND v.created_at BETWEEN b.finished_at AND b.finished_at + interval '10 seconds';

      ALTER TABLE backup_executions
        ADD COLUMN deleted_at timestamptz,
        ADD COLUMN deleted_by uuid REFERENCES backup_executions(id) ON DELETE SET NULL,
        ADD COLUMN instance jsonb;

      ALTER TABLE backup_executions DROP COLUMN backup_group;
      ALTER TABLE backup_executions ADD COLUMN backup_group TEXT GENERATED ALWAYS AS (
        CASE WHEN status = 'completed' AND operation = 'backup' AND deleted_at IS NULL THEN COALESCE(datasource_id::text, metadata->>'original_datasource_id') END
      ) STORED;
      CREATE INDEX idx_backup_executions_backups ON backup_executions (backup_group, created_at DESC, id DESC)
        INCLUDE (compressed_size_bytes) WHERE backup_group IS NOT NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DELETE FROM backup_executions WHERE deleted_at IS NOT NULL;
      ALTER TABLE backup_executions DROP COLUMN backup_group;
      ALTER TABLE backup_executions ADD COLUMN backup_group TEXT GENERATED ALWAYS AS (
        CASE WHEN status = 'completed' AND operation = 'backup' THEN COALESCE(datasource_id::text, metadata->>'original_datasource_id') END
      ) STORED;
      CREATE INDEX idx_backup_executions_backups ON backup_executions (backup_group, created_at DESC, id DESC)
        INCLUDE (compressed_size_bytes) WHERE backup_group IS NOT NULL;
      ALTER TABLE backup_executions DROP COLUMN deleted_at, DROP COLUMN deleted_by, DROP COLUMN instance;

      UPDATE backup_executions SET metadata = COALESCE(metadata, '{}'::jsonb) || jsonb_build_object('trigger', CASE trigger WHEN 'schedule' THEN 'daily' ELSE 'after_backup' END)
        WHERE operation = 'cleanup';
      UPDATE backup_executions SET trigger = 'manual' WHERE trigger = 'after_backup';
      ALTER TYPE execution_trigger RENAME TO execution_trigger_new;
      CREATE TYPE execution_trigger AS ENUM ('manual','schedule','catch_up','retry');
      ALTER TABLE backup_executions ALTER COLUMN trigger DROP DEFAULT;
      ALTER TABLE backup_executions ALTER COLUMN trigger TYPE execution_trigger USING trigger::text::execution_trigger;
      ALTER TABLE backup_executions ALTER COLUMN trigger SET DEFAULT 'manual';
      DROP TYPE execution_trigger_new;
    `);
  }
}
