import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What an execution is (a backup, a restore or a verification) becomes a column: queries filter on it,
 * the database refuses an unknown kind, and `metadata` no longer carries it. Rows written before keep
 * their kind, read from `metadata.operation`.
 */
export class ExecutionOperation1700000000004 implements MigrationInterface {
  name = 'ExecutionOperation1700000000004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TYPE execution_operation AS ENUM ('backup','restore','verify');
      ALTER TABLE backup_executions ADD COLUMN operation execution_operation NOT NULL DEFAULT 'backup';
      UPDATE backup_executions SET operation = (metadata->>'operation')::execution_operation
        WHERE metadata->>'operation' IN ('restore','verify');
      UPDATE backup_executions SET metadata = metadata - 'operation' WHERE metadata ? 'operation';
      ALTER TABLE backup_executions ALTER COLUMN operation DROP DEFAULT;
      CREATE INDEX idx_backup_executions_operation ON backup_executions (operation, status, created_at DESC);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE backup_executions SET metadata = COALESCE(metadata, '{}'::jsonb) || jsonb_build_object('operation', operation::text);
      DROP INDEX idx_backup_executions_operation;
      ALTER TABLE backup_executions DROP COLUMN operation;
      DROP TYPE execution_operation;
    `);
  }
}
