import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the health monitor needs to stay "never silent, never loud": one row per condition (a lost
 * connection, an unreachable or full storage, an overdue job) with when it was raised, last told and
 * cleared, so a restart neither repeats nor forgets an alert; since when each job is expected to back up
 * (enabled, scheduled, not paused), by the app's clock; and the new `backup_overdue` notification type.
 */
export class AlertConditions1700000000007 implements MigrationInterface {
  name = 'AlertConditions1700000000007';

  async up(q: QueryRunner): Promise<void> {
    // PostgreSQL 12+ accepts ADD VALUE in a transaction, provided the value is not used in it.
    await q.query(`ALTER TYPE notification_type ADD VALUE IF NOT EXISTS 'backup_overdue'`);
    await q.query(`
      CREATE TABLE alert_conditions (
        kind             VARCHAR(40) NOT NULL,
        entity_id        UUID NOT NULL,
        level            notification_severity NOT NULL,
        raised_at        TIMESTAMPTZ NOT NULL,
        last_notified_at TIMESTAMPTZ NOT NULL,
        cleared_at       TIMESTAMPTZ NULL,
        details          JSONB NULL,
        PRIMARY KEY (kind, entity_id)
      );
      CREATE TABLE backup_watch (
        job_id UUID PRIMARY KEY REFERENCES backup_jobs(id) ON DELETE CASCADE,
        since  TIMESTAMPTZ NOT NULL
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE backup_watch;
      DROP TABLE alert_conditions;
      DELETE FROM notifications WHERE type = 'backup_overdue';
      ALTER TYPE notification_type RENAME TO notification_type_old;
      CREATE TYPE notification_type AS ENUM ('backup_success','backup_failed','connection_lost','connection_restored',
        'storage_full','storage_unreachable','health_degraded','cleanup_completed','restore_completed');
      ALTER TABLE notifications ALTER COLUMN type TYPE notification_type USING type::text::notification_type;
      DROP TYPE notification_type_old;
    `);
  }
}
