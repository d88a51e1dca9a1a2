import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contract, channelNames } from '../../shared/contract.js';
import { describeSchedule, nextRuns } from '../../shared/cron.js';
import { datasourceCreate, maskedConfig } from '../../shared/schemas/datasource.js';
import { jobCreate, jobUpdate } from '../../shared/schemas/job.js';
import { settingsUpdate } from '../../shared/schemas/settings.js';
import { storageCreate } from '../../shared/schemas/storage.js';
import { maskSecrets, mergeSecrets } from '../../shared/secrets.js';

const ID = '550e8400-e29b-41d4-a716-446655440000';
const pathsOf = (r: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) => (r.error?.issues ?? []).map((i) => i.path.join('.'));

// The seed's own request bodies (architecture-original.md, "Fluxo de Execução" 2–4) must keep working.
const seedDatasource = {
  name: 'Banco Produção',
  type: 'postgres',
  connection_config: { host: 'db.empresa.local', port: 5432, database: 'app_prod', username: 'backup_user', password: 'senhasegura' },
  tags: ['produção', 'crítico'],
};
const seedStorage = {
  name: 'NAS Empresa',
  type: 'ssh',
  config: { host: 'nas.empresa.local', port: 22, username: 'backup', private_key: '-----BEGIN RSA PRIVATE KEY-----\n...', remote_path: '/mnt/storage/backups' },
};
const seedJob = {
  name: 'Backup Diário Produção',
  datasource_id: ID,
  storage_location_id: ID,
  schedule_cron: '0 3 * * *',
  schedule_timezone: 'America/Sao_Paulo',
  retention_policy: { keep_daily: 7, keep_weekly: 4, keep_monthly: 12, auto_delete: true },
  backup_options: { compression: 'gzip', compression_level: 6, parallel_jobs: 4, exclude_tables: ['logs_*', 'temp_*'] },
};

describe('datasource schema', () => {
  it('accepts the seed body and fills defaults', () => {
    const r = datasourceCreate.parse(seedDatasource);
    assert.equal(r.type, 'postgres');
    assert.equal(r.enabled, true);
    assert.equal(r.save_anyway, false);
    assert.deepEqual(r.tags, ['produção', 'crítico']);
  });

  it('accepts every type with its seed config', () => {
    const configs: Record<string, object> = {
      mysql: { host: 'h', database: 'd', username: 'u', password: 'p' },
      mariadb: { host: 'h', database: 'd', username: 'u' },
      mongodb: { host: 'h', database: 'd', username: 'u', auth_database: 'admin' },
      sqlserver: { host: 'h', database: 'd', username: 'sa', password: 'p' },
      sqlite: { file_path: '/var/data/app.db' },
      files: { source_path: '/var/www/uploads', include_patterns: ['*.jpg'], exclude_patterns: ['*.log', 'temp/*'] },
    };
    for (const [type, connection_config] of Object.entries(configs)) {
      const r = datasourceCreate.safeParse({ name: type, type, connection_config });
      assert.ok(r.success, `${type}: ${JSON.stringify(r.error?.issues)}`);
    }
    const mysql = datasourceCreate.parse({ name: 'm', type: 'mysql', connection_config: configs.mysql });
    assert.equal((mysql.connection_config as { port: number }).port, 3306, 'port defaults per type');
  });

  it('rejects a missing host, a bad port and an unknown type', () => {
    const noHost = datasourceCreate.safeParse({ ...seedDatasource, connection_config: { ...seedDatasource.connection_config, host: '' } });
    assert.deepEqual(pathsOf(noHost), ['connection_config.host']);
    const badPort = datasourceCreate.safeParse({ ...seedDatasource, connection_config: { ...seedDatasource.connection_config, port: 70000 } });
    assert.deepEqual(pathsOf(badPort), ['connection_config.port']);
    assert.equal(datasourceCreate.safeParse({ ...seedDatasource, type: 'oracle' }).success, false);
    assert.deepEqual(pathsOf(datasourceCreate.safeParse({ ...seedDatasource, name: '  ' })), ['name']);
  });
});

describe('storage schema', () => {
  it('accepts the seed bodies of every type', () => {
    assert.ok(storageCreate.safeParse(seedStorage).success);
    const bodies = [
      { type: 'local', config: { path: '/var/backups', max_size_gb: 500 } },
      { type: 's3', config: { bucket: 'b', region: 'us-east-1', access_key_id: 'AK', secret_access_key: 'SK', storage_class: 'STANDARD_IA' } },
      { type: 'minio', config: { endpoint: 'http://minio.local:9000', bucket: 'b', access_key: 'a', secret_key: 's', use_ssl: false } },
      { type: 'backblaze', config: { bucket_id: 'id', bucket_name: 'b', application_key_id: 'k', application_key: 's' } },
    ];
    for (const b of bodies) assert.ok(storageCreate.safeParse({ name: b.type, ...b }).success, b.type);
  });

  it('rejects a relative local path, a missing bucket and a bad endpoint', () => {
    assert.deepEqual(pathsOf(storageCreate.safeParse({ name: 'x', type: 'local', config: { path: 'backups' } })), ['config.path']);
    assert.deepEqual(pathsOf(storageCreate.safeParse({ name: 'x', type: 's3', config: { region: 'r', access_key_id: 'a' } })), ['config.bucket']);
    assert.deepEqual(pathsOf(storageCreate.safeParse({ name: 'x', type: 's3', config: { bucket: 'b', access_key_id: 'a', endpoint: 'ftp://x' } })), [
      'config.endpoint',
    ]);
  });
});

describe('job schema', () => {
  it('accepts the seed body: one storage becomes the list, defaults filled', () => {
    const r = jobCreate.parse(seedJob);
    assert.deepEqual(r.storage_location_ids, [ID]);
    assert.equal(r.storage_strategy, 'fallback');
    assert.equal(r.backup_options.compression_level, 6);
    assert.equal(r.backup_options.verify_after_backup, 'none');
    assert.equal('storage_location_id' in r, false);
  });

  it('without a level, each compression gets the default of its command-line tool (lz4: 1, its fast mode)', () => {
    const levelOf = (compression: string) => jobCreate.parse({ ...seedJob, backup_options: { compression } }).backup_options.compression_level;
    assert.deepEqual([levelOf('gzip'), levelOf('zstd'), levelOf('lz4'), levelOf('none')], [6, 3, 1, undefined]);
  });

  it('accepts the current retention form and several storages', () => {
    const other = '7f3a1c00-d41e-4b29-b853-993344220000';
    const r = jobCreate.parse({
      ...seedJob,
      storage_location_id: undefined,
      storage_location_ids: [ID, other],
      storage_strategy: 'replicate',
      retention_policy: { max_backups: 3, auto_delete: true },
    });
    assert.deepEqual(r.storage_location_ids, [ID, other]);
  });

  it('rejects a bad cron, an unknown timezone, negative retention, unknown compression, no storage', () => {
    assert.deepEqual(pathsOf(jobCreate.safeParse({ ...seedJob, schedule_cron: '0 3 * *' })), ['schedule_cron']);
    assert.deepEqual(pathsOf(jobCreate.safeParse({ ...seedJob, schedule_cron: '61 3 * * *' })), ['schedule_cron']);
    assert.deepEqual(pathsOf(jobCreate.safeParse({ ...seedJob, schedule_timezone: 'Mars/Olympus' })), ['schedule_timezone']);
    assert.deepEqual(pathsOf(jobCreate.safeParse({ ...seedJob, retention_policy: { keep_daily: -1 } })), ['retention_policy.keep_daily']);
    assert.deepEqual(pathsOf(jobCreate.safeParse({ ...seedJob, retention_policy: { max_backups: 0 } })), ['retention_policy.max_backups']);
    assert.deepEqual(pathsOf(jobCreate.safeParse({ ...seedJob, retention_policy: { auto_delete: true } })), ['retention_policy']);
    assert.deepEqual(pathsOf(jobCreate.safeParse({ ...seedJob, backup_options: { compression: 'rar' } })), ['backup_options.compression']);
    assert.deepEqual(pathsOf(jobCreate.safeParse({ ...seedJob, backup_options: { compression: 'gzip', compression_level: 12 } })), [
      'backup_options.compression_level',
    ]);
    assert.deepEqual(pathsOf(jobCreate.safeParse({ ...seedJob, storage_location_id: undefined })), ['storage_location_ids']);
  });

  it('an update may change a single field', () => {
    const r = jobUpdate.parse({ id: ID, enabled: false });
    assert.equal(r.enabled, false);
    assert.equal(r.storage_location_ids, undefined);
    assert.equal(r.schedule_cron, undefined);
  });
});

describe('schedule helpers', () => {
  it('describes a daily schedule in words with its timezone', () => {
    assert.equal(describeSchedule('0 3 * * *', 'America/Sao_Paulo'), 'Every day at 03:00, America/Sao_Paulo');
  });

  it('computes the next runs in the job timezone', () => {
    const runs = nextRuns('0 3 * * *', 'America/Sao_Paulo', 5, new Date('2025-02-13T00:00:00Z'));
    // 03:00 in São Paulo (UTC-3, no DST since 2019) is 06:00 UTC — the seed's own example.
    assert.equal(runs[0], '2025-02-13T06:00:00.000Z');
    assert.equal(runs.length, 5);
    assert.equal(runs[4], '2025-02-17T06:00:00.000Z');
  });
});

describe('settings schema', () => {
  it('an update carries only the keys given and refuses unknown ones', () => {
    assert.deepEqual(settingsUpdate.parse({ 'system.max_concurrent_backups': 5 }), { 'system.max_concurrent_backups': 5 });
    assert.equal(settingsUpdate.safeParse({ 'system.max_concurrent_backups': 0 }).success, false);
    assert.equal(settingsUpdate.safeParse({ 'no.such_key': 1 }).success, false);
    assert.equal(settingsUpdate.safeParse({ 'notifications.webhook_url': 'not a url' }).success, false);
  });
});

describe('secrets in configs', () => {
  it('masks every secret with a flag, and the output schema refuses an unmasked one', () => {
    const masked = maskSecrets({ host: 'h', password: 'p', private_key: '' });
    assert.deepEqual(masked, { host: 'h', password_set: true, private_key_set: false });
    assert.ok(maskedConfig.safeParse(masked).success);
    assert.equal(maskedConfig.safeParse({ host: 'h', password: 'p' }).success, false);
  });

  it('an update without a secret keeps the stored one; null clears it', () => {
    assert.deepEqual(mergeSecrets({ host: 'h2' }, { host: 'h', password: 'old' }), { host: 'h2', password: 'old' });
    assert.deepEqual(mergeSecrets({ host: 'h', password: '' }, { password: 'old' }), { host: 'h', password: 'old' });
    assert.deepEqual(mergeSecrets({ password: 'new' }, { password: 'old' }), { password: 'new' });
    assert.deepEqual(mergeSecrets({ password: null }, { password: 'old' }), {});
  });
});

describe('contract', () => {
  it('declares every channel with an input, an output, and unique REST routes', () => {
    const seen = new Set<string>();
    for (const name of channelNames()) {
      const [g, m] = name.split('.') as [keyof typeof contract, string];
      const ch = (contract[g] as Record<string, { input: unknown; output: unknown; route?: { method: string; path: string } }>)[m]!;
      assert.ok(ch.input && ch.output, name);
      if (ch.route) {
        const key = `${ch.route.method} ${ch.route.path}`;
        assert.ok(!seen.has(key), `duplicate route ${key}`);
        seen.add(key);
      }
    }
    assert.ok(seen.has('GET /api/datasources') && seen.has('GET /health') && seen.has('POST /api/backup-jobs'));
  });
});
