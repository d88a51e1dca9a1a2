import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Each execution's copy on each storage, so `replicate` can record a partial success. */
export class BackupCopies1700000000002 implements MigrationInterface {
  name = 'BackupCopies1700000000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TYPE backup_copy_status AS ENUM ('pending','completed','failed','skipped');
      CREATE TABLE backup_copies (
        execution_id        UUID NOT NULL REFERENCES backup_executions(id) ON DELETE CASCADE,
        storage_location_id UUID NOT NULL REFERENCES storage_locations(id) ON DELETE CASCADE,
        status              backup_copy_status NOT NULL DEFAULT 'pending',
        backup_path         TEXT NULL,
        error_message       TEXT NULL,
        created_at          TIMESTAMPTZ NOT NULL DEFAULT NOW(),
        updated_at          TIMESTAMPTZ NOT NULL DEFAULT NOW(),
        PRIMARY KEY (execution_id, storage_location_id)
      );
      CREATE INDEX idx_backup_copies_storage ON backup_copies (storage_location_id);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE backup_copies; DROP TYPE backup_copy_status;`);
  }
}
