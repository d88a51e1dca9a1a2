import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A sink that could not deliver a notification (webhook, e-mail, desktop) leaves an inbox entry of its own. */
export class DeliveryFailed1700000000008 implements MigrationInterface {
  name = 'DeliveryFailed1700000000008';

  async up(q: QueryRunner): Promise<void> {
    // PostgreSQL 12+ accepts ADD VALUE in a transaction, provided the value is not used in it.
    await q.query(`ALTER TYPE notification_type ADD VALUE IF NOT EXISTS 'delivery_failed'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DELETE FROM notifications WHERE type = 'delivery_failed';
      ALTER TYPE notification_type RENAME TO notification_type_old;
      CREATE TYPE notification_type AS ENUM ('backup_success','backup_failed','connection_lost','connection_restored',
        'storage_full','storage_unreachable','health_degraded','cleanup_completed','restore_completed');
      ALTER TABLE notifications ALTER COLUMN type TYPE notification_type USING type::text::notification_type;
      DROP TYPE notification_type_old;
    `);
  }
}
