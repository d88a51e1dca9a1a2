import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The age keys backups are encrypted to. `app`: this app's own key, its identity sealed by the secret
 * box (null once deleted: write-only mode); `recovery`: the recovery key, whose identity is shown once
 * and never stored; `extra`: public keys the user adds (a colleague's). A key that is replaced stays,
 * retired: its backups still name it, and an app key's identity still opens them.
 */
export class EncryptionKeys1700000000011 implements MigrationInterface {
  name = 'EncryptionKeys1700000000011';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE encryption_keys (
        recipient VARCHAR(100) PRIMARY KEY,
        role VARCHAR(16) NOT NULL CHECK (role IN ('app', 'recovery', 'extra')),
        label VARCHAR(255),
        sealed_identity TEXT CHECK (sealed_identity IS NULL OR role = 'app'),
        active BOOLEAN NOT NULL DEFAULT TRUE,
        created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
        retired_at TIMESTAMPTZ
      );
      CREATE UNIQUE INDEX idx_encryption_keys_one_active ON encryption_keys (role) WHERE active AND role IN ('app', 'recovery');
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE encryption_keys`);
  }
}
