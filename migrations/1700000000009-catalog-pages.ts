import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Activity and Backups answer a page at once with 100,000 executions: each list reads its rows newest
 * first, keyed by (created_at, id) so that a page starts exactly after the last row shown, straight from
 * an index. The Backups tab groups completed backups by datasource, or for an imported backup by the
 * datasource id recorded where it was made: `backup_group` is that key (null for anything that is not a
 * completed backup), and its index also holds the stored size, so counting a datasource's backups and
 * their bytes reads the index alone.
 */
export class CatalogPages1700000000009 implements MigrationInterface {
  name = 'CatalogPages1700000000009';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE INDEX idx_backup_executions_newest ON backup_executions (created_at DESC, id DESC);
      CREATE INDEX idx_backup_executions_status_newest ON backup_executions (status, created_at DESC, id DESC);
      DROP INDEX idx_backup_executions_job_id;
      CREATE INDEX idx_backup_executions_job_id ON backup_executions (job_id, created_at DESC, id DESC);
      ALTER TABLE backup_executions ADD COLUMN backup_group TEXT GENERATED ALWAYS AS (
        CASE WHEN status = 'completed' AND operation = 'backup' THEN COALESCE(datasource_id::text, metadata->>'original_datasource_id') END
      ) STORED;
      CREATE INDEX idx_backup_executions_backups ON backup_executions (backup_group, created_at DESC, id DESC)
        INCLUDE (compressed_size_bytes) WHERE backup_group IS NOT NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX idx_backup_executions_backups;
      ALTER TABLE backup_executions DROP COLUMN backup_group;
      DROP INDEX idx_backup_executions_job_id;
      CREATE INDEX idx_backup_executions_job_id ON backup_executions (job_id, created_at DESC);
      DROP INDEX idx_backup_executions_status_newest;
      DROP INDEX idx_backup_executions_newest;
    `);
  }
}
