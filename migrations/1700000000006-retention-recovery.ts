import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Retention runs become executions of their own (`cleanup`), recorded like backups; and a run holds
 * a lease (`heartbeat_at`, refreshed while it runs) so that an instance sharing an external metadata
 * database only takes over runs whose process stopped refreshing, never a live one.
 */
export class RetentionRecovery1700000000006 implements MigrationInterface {
  name = 'RetentionRecovery1700000000006';

  async up(q: QueryRunner): Promise<void> {
    // PostgreSQL 12+ accepts ADD VALUE in a transaction, provided the value is not used in it.
    await q.query(`ALTER TYPE execution_operation ADD VALUE IF NOT EXISTS 'cleanup'`);
    await q.query(`
      ALTER TABLE backup_executions ADD COLUMN heartbeat_at TIMESTAMPTZ NULL;
      CREATE INDEX idx_backup_executions_running_heartbeat ON backup_executions (heartbeat_at) WHERE status = 'running';
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX idx_backup_executions_running_heartbeat;
      ALTER TABLE backup_executions DROP COLUMN heartbeat_at;
      DELETE FROM backup_executions WHERE operation = 'cleanup';
      ALTER TYPE execution_operation RENAME TO execution_operation_old;
      CREATE TYPE execution_operation AS ENUM ('backup','restore','verify');
      ALTER TABLE backup_executions ALTER COLUMN operation TYPE execution_operation USING operation::text::execution_operation;
      DROP TYPE execution_operation_old;
    `);
  }
}
