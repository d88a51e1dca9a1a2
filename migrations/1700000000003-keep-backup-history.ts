import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A backup outlives its job and datasource: deleting either keeps the catalog entry (its files are still
 * on storage and still restore), and a backup imported from storage may belong to neither here.
 * The seed cascaded the delete; a backup tool must not forget backups that exist.
 */
export class KeepBackupHistory1700000000003 implements MigrationInterface {
  name = 'KeepBackupHistory1700000000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE backup_executions
        ALTER COLUMN job_id DROP NOT NULL,
        ALTER COLUMN datasource_id DROP NOT NULL,
        DROP CONSTRAINT backup_executions_job_id_fkey,
        DROP CONSTRAINT backup_executions_datasource_id_fkey,
        ADD CONSTRAINT backup_executions_job_id_fkey FOREIGN KEY (job_id) REFERENCES backup_jobs(id) ON DELETE SET NULL,
        ADD CONSTRAINT backup_executions_datasource_id_fkey FOREIGN KEY (datasource_id) REFERENCES datasources(id) ON DELETE SET NULL;
      CREATE INDEX idx_backup_executions_datasource ON backup_executions (datasource_id, created_at DESC);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX idx_backup_executions_datasource;
      DELETE FROM backup_executions WHERE job_id IS NULL OR datasource_id IS NULL;
      ALTER TABLE backup_executions
        ALTER COLUMN job_id SET NOT NULL,
        ALTER COLUMN datasource_id SET NOT NULL,
        DROP CONSTRAINT backup_executions_job_id_fkey,
        DROP CONSTRAINT backup_executions_datasource_id_fkey,
        ADD CONSTRAINT backup_executions_job_id_fkey FOREIGN KEY (job_id) REFERENCES backup_jobs(id) ON DELETE CASCADE,
        ADD CONSTRAINT backup_executions_datasource_id_fkey FOREIGN KEY (datasource_id) REFERENCES datasources(id);
    `);
  }
}
