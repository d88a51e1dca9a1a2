import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A backup of every database on a server whose databases did not all back up ends `partial`: the good
 * ones are complete backups (restorable, verified, kept by retention), the failed ones are named in it.
 * Each database's artifact is recorded in the backup's metadata and manifest (rebuildable from storage),
 * its parts in backup_chunks like any other: no new table.
 */
export class WholeServers1700000000015 implements MigrationInterface {
  name = 'WholeServers1700000000015';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TYPE execution_status ADD VALUE IF NOT EXISTS 'partial'`);
    // A new enum value is usable once committed; ADD VALUE IF NOT EXISTS makes a retry of the rest safe.
    await q.commitTransaction();
    await q.startTransaction();
    // The Backups tab groups backups by datasource: a partial backup is one of them.
    await q.query(`
      ALTER TABLE backup_executions DROP COLUMN backup_group;
      ALTER TABLE backup_executions ADD COLUMN backup_group TEXT GENERATED ALWAYS AS (
        CASE WHEN status IN ('completed', 'partial') AND operation = 'backup' AND deleted_at IS NULL
             THEN COALESCE(datasource_id::text, metadata->>'original_datasource_id') END
      ) STORED;
      CREATE INDEX idx_backup_executions_backups ON backup_executions (backup_group, created_at DESC, id DESC)
        INCLUDE (compressed_size_bytes) WHERE backup_group IS NOT NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    // An enum value cannot be dropped: the type is rebuilt without it, partial backups reading as completed.
    await q.query(`
      ALTER TABLE backup_executions DROP COLUMN backup_group;
      DROP INDEX IF EXISTS idx_backup_executions_status;
      ALTER TABLE backup_executions ALTER COLUMN status DROP DEFAULT;
      UPDATE backup_executions SET status = 'completed' WHERE status = 'partial';
      ALTER TYPE execution_status RENAME TO execution_status_old;
      CREATE TYPE execution_status AS ENUM ('queued','running','completed','failed','cancelled','skipped');
      ALTER TABLE backup_executions ALTER COLUMN status TYPE execution_status USING status::text::execution_status;
      ALTER TABLE backup_executions ALTER COLUMN status SET DEFAULT 'queued';
      DROP TYPE execution_status_old;
      CREATE INDEX idx_backup_executions_status ON backup_executions (status) WHERE status IN ('queued', 'running');
      ALTER TABLE backup_executions ADD COLUMN backup_group TEXT GENERATED ALWAYS AS (
        CASE WHEN status = 'completed' AND operation = 'backup' AND deleted_at IS NULL THEN COALESCE(datasource_id::text, metadata->>'original_datasource_id') END
      ) STORED;
      CREATE INDEX idx_backup_executions_backups ON backup_executions (backup_group, created_at DESC, id DESC)
        INCLUDE (compressed_size_bytes) WHERE backup_group IS NOT NULL;
    `);
  }
}
