import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The seed's schema whole (database-schema.md + database-summary.md), plus a job's list of storages. */
export class InitialSchema1700000000001 implements MigrationInterface {
  name = 'InitialSchema1700000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TYPE datasource_type AS ENUM ('postgres','mysql','mariadb','mongodb','sqlserver','sqlite','files');
      CREATE TYPE datasource_status AS ENUM ('healthy','warning','critical','unknown');
      CREATE TYPE storage_location_type AS ENUM ('local','s3','ssh','minio','backblaze');
      CREATE TYPE storage_location_status AS ENUM ('healthy','full','unreachable');
      CREATE TYPE execution_status AS ENUM ('queued','running','completed','failed','cancelled');
      CREATE TYPE backup_type AS ENUM ('full','incremental','differential');
      CREATE TYPE health_check_status AS ENUM ('ok','timeout','auth_failed','unreachable','error');
      CREATE TYPE notification_type AS ENUM ('backup_success','backup_failed','connection_lost','connection_restored',
        'storage_full','storage_unreachable','health_degraded','cleanup_completed','restore_completed');
      CREATE TYPE notification_severity AS ENUM ('info','warning','critical');
      CREATE TYPE notification_entity_type AS ENUM ('datasource','backup_job','storage_location','system');
      CREATE TYPE storage_strategy AS ENUM ('fallback','replicate');

      CREATE TABLE datasources (
        id                   UUID PRIMARY KEY DEFAULT gen_random_uuid(),
        name                 VARCHAR(255) NOT NULL,
        type                 datasource_type NOT NULL,
        connection_config    JSONB NOT NULL,
        status               datasource_status NOT NULL DEFAULT 'unknown',
        last_health_check_at TIMESTAMPTZ NULL,
        enabled              BOOLEAN NOT NULL DEFAULT true,
        tags                 TEXT[] NOT NULL DEFAULT '{}',
        created_at           TIMESTAMPTZ NOT NULL DEFAULT NOW(),
        updated_at           TIMESTAMPTZ NOT NULL DEFAULT NOW()
      );

      CREATE TABLE storage_locations (
        id                 UUID PRIMARY KEY DEFAULT gen_random_uuid(),
        name               VARCHAR(255) NOT NULL,
        type               storage_location_type NOT NULL,
        config             JSONB NOT NULL,
        is_default         BOOLEAN NOT NULL DEFAULT false,
        available_space_gb DECIMAL(10, 2) NULL,
        status             storage_location_status NOT NULL DEFAULT 'healthy',
        created_at         TIMESTAMPTZ NOT NULL DEFAULT NOW(),
        updated_at         TIMESTAMPTZ NOT NULL DEFAULT NOW()
      );
      -- The seed's "only one default": enforced by the database, not only by the app.
      CREATE UNIQUE INDEX idx_storage_locations_single_default ON storage_locations (is_default) WHERE is_default;

      CREATE TABLE backup_jobs (
        id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
        name                VARCHAR(255) NOT NULL,
        datasource_id       UUID NOT NULL REFERENCES datasources(id),
        storage_location_id UUID NOT NULL REFERENCES storage_locations(id),
        storage_strategy    storage_strategy NOT NULL DEFAULT 'fallback',
        schedule_cron       VARCHAR(100) NOT NULL,
        schedule_timezone   VARCHAR(50) NOT NULL DEFAULT 'UTC',
        enabled             BOOLEAN NOT NULL DEFAULT true,
        retention_policy    JSONB NOT NULL,
        backup_options      JSONB NOT NULL,
        last_execution_at   TIMESTAMPTZ NULL,
        next_execution_at   TIMESTAMPTZ NULL,
        created_at          TIMESTAMPTZ NOT NULL DEFAULT NOW(),
        updated_at          TIMESTAMPTZ NOT NULL DEFAULT NOW()
      );

      -- A job writes to one or more storages, in order (first = the seed's storage_location_id).
      CREATE TABLE backup_job_storages (
        job_id              UUID NOT NULL REFERENCES backup_jobs(id) ON DELETE CASCADE,
        storage_location_id UUID NOT NULL REFERENCES storage_locations(id),
        position            INTEGER NOT NULL,
        PRIMARY KEY (job_id, storage_location_id),
        UNIQUE (job_id, position)
      );

      CREATE TABLE backup_executions (
        id                    UUID PRIMARY KEY DEFAULT gen_random_uuid(),
        job_id                UUID NOT NULL REFERENCES backup_jobs(id) ON DELETE CASCADE,
        datasource_id         UUID NOT NULL REFERENCES datasources(id),
        storage_location_id   UUID NOT NULL REFERENCES storage_locations(id),
        status                execution_status NOT NULL DEFAULT 'queued',
        started_at            TIMESTAMPTZ NULL,
        finished_at           TIMESTAMPTZ NULL,
        duration_seconds      INTEGER NULL,
        size_bytes            BIGINT NULL,
        compressed_size_bytes BIGINT NULL,
        backup_path           TEXT NULL,
        backup_type           backup_type NOT NULL DEFAULT 'full',
        files_count           INTEGER NULL,
        error_message         TEXT NULL,
        error_stack           TEXT NULL,
        metadata              JSONB NULL,
        created_at            TIMESTAMPTZ NOT NULL DEFAULT NOW()
      );

      CREATE TABLE backup_chunks (
        id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
        execution_id UUID NOT NULL REFERENCES backup_executions(id) ON DELETE CASCADE,
        chunk_number INTEGER NOT NULL,
        file_path    TEXT NOT NULL,
        size_bytes   BIGINT NOT NULL,
        checksum     VARCHAR(64) NOT NULL,
        created_at   TIMESTAMPTZ NOT NULL DEFAULT NOW(),
        UNIQUE (execution_id, chunk_number)
      );

      CREATE TABLE health_checks (
        id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
        datasource_id UUID NOT NULL REFERENCES datasources(id) ON DELETE CASCADE,
        checked_at    TIMESTAMPTZ NOT NULL DEFAULT NOW(),
        status        health_check_status NOT NULL,
        latency_ms    INTEGER NULL,
        error_message TEXT NULL,
        metadata      JSONB NULL
      );

      CREATE TABLE notifications (
        id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
        type        notification_type NOT NULL,
        severity    notification_severity NOT NULL,
        entity_type notification_entity_type NOT NULL,
        entity_id   UUID NOT NULL,
        title       VARCHAR(255) NOT NULL,
        message     TEXT NOT NULL,
        metadata    JSONB NULL,
        read_at     TIMESTAMPTZ NULL,
        created_at  TIMESTAMPTZ NOT NULL DEFAULT NOW()
      );

      CREATE TABLE system_settings (
        key         VARCHAR(100) PRIMARY KEY,
        value       JSONB NOT NULL,
        description TEXT NULL,
        updated_at  TIMESTAMPTZ NOT NULL DEFAULT NOW()
      );

      CREATE INDEX idx_health_checks_datasource_date ON health_checks (datasource_id, checked_at DESC);
      CREATE INDEX idx_notifications_created_read ON notifications (created_at DESC, read_at);
      CREATE INDEX idx_backup_executions_job_id ON backup_executions (job_id, created_at DESC);
      CREATE INDEX idx_backup_executions_status ON backup_executions (status) WHERE status IN ('queued', 'running');
      CREATE INDEX idx_backup_jobs_next_execution ON backup_jobs (next_execution_at) WHERE enabled = true;
      CREATE INDEX idx_datasources_tags ON datasources USING GIN (tags);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE system_settings, notifications, health_checks, backup_chunks, backup_executions,
        backup_job_storages, backup_jobs, storage_locations, datasources;
      DROP TYPE storage_strategy, notification_entity_type, notification_severity, notification_type,
        health_check_status, backup_type, execution_status, storage_location_status, storage_location_type,
        datasource_status, datasource_type;
    `);
  }
}
