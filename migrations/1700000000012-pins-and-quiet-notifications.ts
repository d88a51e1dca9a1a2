import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * - `pinned_at`, `pin_reason`: a backup the user pinned, which retention never deletes (restic's
 *   `--keep-tag`, Kopia's pins). The reason is the user's words ("before the 2026 migration").
 * - `notifications.desktop_min_severity` goes: Settings now route each kind of notification (off,
 *   inbox, desktop) in `notifications.routing`, whose default fills itself in.
 */
export class PinsAndQuietNotifications1700000000012 implements MigrationInterface {
  name = 'PinsAndQuietNotifications1700000000012';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE backup_executions ADD COLUMN pinned_at timestamptz, ADD COLUMN pin_reason text;
      DELETE FROM system_settings WHERE key = 'notifications.desktop_min_severity';
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE backup_executions DROP COLUMN pinned_at, DROP COLUMN pin_reason;
      DELETE FROM system_settings WHERE key = 'notifications.routing';
      INSERT INTO system_settings (key, value, description)
        VALUES ('notifications.desktop_min_severity', '"warning"', 'Desktop notifications from this severity up (desktop app only)')
        ON CONFLICT (key) DO NOTHING;
    `);
  }
}
