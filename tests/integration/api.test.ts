import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startMariadb, startPostgres, startS3, startSshd } from '../harness/index.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';

type Servers = {
  pg: Awaited<ReturnType<typeof startPostgres>>;
  maria: Awaited<ReturnType<typeof startMariadb>>;
  ssh: Awaited<ReturnType<typeof startSshd>>;
  s3: Awaited<ReturnType<typeof startS3>>;
};

let app: AppUnderTest;
let servers: Servers;
const folders: string[] = [];

function folder(): string {
  const dir = mkdtempSync('/tmp/dg-storage-');
  folders.push(dir);
  return dir;
}

const pgBody = (s: Servers, password = s.pg.password) => ({
  name: 'Banco Produção',
  type: 'postgres',
  connection_config: { host: s.pg.host, port: s.pg.port, database: 'postgres', username: s.pg.user, password },
  tags: ['produção', 'crítico'],
});

before(async () => {
  const [p, maria, ssh, s3] = await Promise.all([startPostgres(), startMariadb(), startSshd(), startS3()]);
  servers = { pg: p, maria, ssh, s3 };
  await s3.createBucket('dg-backups');
  app = await startApp();
});

after(async () => {
  await app?.stop();
  await Promise.all(Object.values(servers ?? {}).map((s) => s.stop()));
  for (const f of folders) rmSync(f, { recursive: true, force: true });
});

describe('datasources over HTTP', () => {
  it('creates a postgres datasource against the real server, tests it first, and lists it', async () => {
    const created = await app.http('POST', '/api/datasources', pgBody(servers));
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.status, 'healthy');
    assert.equal(created.body.connection_config.password_set, true);
    assert.equal(created.body.connection_config.password, undefined);
    const list = await app.http('GET', '/api/datasources');
    assert.deepEqual(
      list.body.map((d: { id: string }) => d.id),
      [created.body.id],
    );
    const checks = await app.http('GET', `/api/datasources/${created.body.id}/health-checks`);
    assert.equal(checks.body[0].status, 'ok');
    assert.match(String(checks.body[0].metadata.database_version), /PostgreSQL 1\d/);
  });

  it('a wrong password fails with auth_failed and saves nothing', async () => {
    const before = (await app.http('GET', '/api/datasources')).body.length;
    const refused = await app.http('POST', '/api/datasources', pgBody(servers, 'wrong-password'));
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, 'connection_failed');
    assert.equal(refused.body.error.details.status, 'auth_failed');
    assert.match(refused.body.error.message, /authentication failed/i);
    assert.equal((await app.http('GET', '/api/datasources')).body.length, before);
  });

  it('"save anyway" keeps a datasource whose test failed, marked warning (critical after three failures in a row)', async () => {
    const saved = await app.http('POST', '/api/datasources', { ...pgBody(servers, 'wrong-password'), name: 'Later', save_anyway: true });
    assert.equal(saved.status, 201, saved.text);
    assert.equal(saved.body.status, 'warning');
    assert.equal((await app.http('DELETE', `/api/datasources/${saved.body.id}`)).status, 200);
  });

  it('mariadb and mysql types connect to the real MariaDB; a wrong password is auth_failed', async () => {
    const { maria } = servers;
    for (const type of ['mariadb', 'mysql']) {
      const body = {
        name: `Loja ${type}`,
        type,
        connection_config: { host: maria.host, port: maria.port, database: 'mysql', username: maria.user, password: maria.password },
      };
      const ok = await app.http('POST', '/api/datasources', body);
      assert.equal(ok.status, 201, ok.text);
      assert.equal(ok.body.type, type);
      const bad = await app.http('POST', '/api/datasources', { ...body, connection_config: { ...body.connection_config, password: 'nope' } });
      assert.equal(bad.body.error.details.status, 'auth_failed');
    }
  });

  it('updates without a new password keep the stored one; a changed config is tested again', async () => {
    const list = (await app.http('GET', '/api/datasources')).body;
    const ds = list.find((d: { type: string }) => d.type === 'postgres');
    const renamed = await app.http('PUT', `/api/datasources/${ds.id}`, {
      name: 'Produção',
      connection_config: { ...ds.connection_config, password: '' },
    });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal(renamed.body.name, 'Produção');
    const tested = await app.rpc('datasources.test', { id: ds.id });
    assert.equal(tested.body.data.status, 'ok');
    const wrongPort = await app.http('PUT', `/api/datasources/${ds.id}`, { connection_config: { ...ds.connection_config, port: 1 } });
    assert.equal(wrongPort.body.error.details.status, 'unreachable');
    assert.equal((await app.http('GET', `/api/datasources/${ds.id}`)).body.connection_config.port, servers.pg.port);
  });

  it('bad input answers 400 with the field, no stack trace, and changes nothing', async () => {
    const before = (await app.http('GET', '/api/datasources')).text;
    const bad = await app.http('POST', '/api/datasources', { name: 'x', type: 'postgres', connection_config: { port: 5432 } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'validation_error');
    assert.ok(bad.body.error.issues.some((i: { path: string }) => i.path === 'connection_config.host'));
    assert.doesNotMatch(bad.text, /at .*\.ts:\d+/);
    const notJson = await app.fetch('/api/datasources', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{oops' });
    assert.equal(notJson.status, 400);
    assert.equal((await app.http('GET', '/api/datasources')).text, before);
    const missing = await app.http('GET', '/api/datasources/550e8400-e29b-41d4-a716-446655440000');
    assert.equal(missing.status, 404);
  });
});

describe('storage locations over HTTP', () => {
  it('a local folder: created, tested with free space, first one becomes the default', async () => {
    const dir = folder();
    const created = await app.http('POST', '/api/storage-locations', { name: 'Disco local', type: 'local', config: { path: dir } });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.is_default, true);
    assert.ok(created.body.available_space_gb > 0);
    const tested = await app.rpc('storages.test', { id: created.body.id });
    assert.equal(tested.body.data.ok, true);
  });

  it('a local path that cannot be written fails with the cause', async () => {
    const file = path.join(folder(), 'a-file');
    writeFileSync(file, 'x');
    const bad = await app.http('POST', '/api/storage-locations', { name: 'Bad', type: 'local', config: { path: path.join(file, 'sub') } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'connection_failed');
  });

  it('SFTP on a real sshd: key login works and remembers the host key; a wrong key names authentication', async () => {
    const { ssh } = servers;
    const config = { host: ssh.host, port: ssh.port, username: ssh.username, private_key: ssh.privateKey, remote_path: ssh.remoteDir };
    const created = await app.http('POST', '/api/storage-locations', { name: 'NAS', type: 'ssh', config });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.config.host_key_fingerprint, ssh.hostKeyFingerprint);
    assert.equal(created.body.config.private_key_set, true);
    const withPassword = await app.rpc('storages.test', { type: 'ssh', config: { ...config, private_key: undefined, password: ssh.password } });
    assert.equal(withPassword.body.data.ok, true, withPassword.text);
    const wrongPassword = await app.rpc('storages.test', { type: 'ssh', config: { ...config, private_key: undefined, password: 'nope' } });
    assert.equal(wrongPassword.body.data.ok, false);
    assert.match(wrongPassword.body.data.message, /auth/i);
    const otherKey = (await import('node:crypto'))
      .generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    const wrongKey = await app.rpc('storages.test', { type: 'ssh', config: { ...config, private_key: otherKey } });
    assert.equal(wrongKey.body.data.ok, false);
    assert.match(wrongKey.body.data.message, /auth/i);
  });

  it('S3 on a real S3-compatible server works; a wrong key and a missing bucket name their cause', async () => {
    const { s3 } = servers;
    const config = {
      endpoint: s3.endpoint,
      bucket: 'dg-backups',
      region: s3.region,
      access_key_id: s3.accessKeyId,
      secret_access_key: s3.secretAccessKey,
      force_path_style: true,
    };
    const created = await app.http('POST', '/api/storage-locations', { name: 'S3', type: 's3', config });
    assert.equal(created.status, 201, created.text);
    const minio = await app.rpc('storages.test', {
      type: 'minio',
      config: { endpoint: s3.endpoint, bucket: 'dg-backups', access_key: s3.accessKeyId, secret_key: s3.secretAccessKey },
    });
    assert.equal(minio.body.data.ok, true, minio.text);
    // s3rver checks the access key but not the signature, so the wrong credential here is the key id.
    const wrongKey = await app.http('POST', '/api/storage-locations', { name: 'S3 bad', type: 's3', config: { ...config, access_key_id: 'WRONGKEY' } });
    assert.equal(wrongKey.status, 400);
    assert.match(wrongKey.body.error.message, /access key|secret|credential/i);
    const noBucket = await app.http('POST', '/api/storage-locations', { name: 'S3 none', type: 's3', config: { ...config, bucket: 'no-such-bucket' } });
    assert.equal(noBucket.status, 400);
    assert.match(noBucket.body.error.message, /no-such-bucket/);
  });

  it('only one storage is the default', async () => {
    const list = (await app.http('GET', '/api/storage-locations')).body;
    const other = list.find((s: { is_default: boolean }) => !s.is_default);
    const updated = await app.http('PUT', `/api/storage-locations/${other.id}`, { is_default: true });
    assert.equal(updated.body.is_default, true);
    const defaults = (await app.http('GET', '/api/storage-locations')).body.filter((s: { is_default: boolean }) => s.is_default);
    assert.deepEqual(
      defaults.map((s: { id: string }) => s.id),
      [other.id],
    );
  });
});

describe('backup jobs over HTTP', () => {
  it('the seed body creates a job with next_execution_at in its timezone; edits and delete round-trip', async () => {
    const ds = (await app.http('GET', '/api/datasources')).body[0];
    const storages = (await app.http('GET', '/api/storage-locations')).body;
    const created = await app.http('POST', '/api/backup-jobs', {
      name: 'Backup Diário Produção',
      datasource_id: ds.id,
      storage_location_id: storages[0].id,
      schedule_cron: '0 3 * * *',
      schedule_timezone: 'America/Sao_Paulo',
      retention_policy: { keep_daily: 7, keep_weekly: 4, keep_monthly: 12, auto_delete: true },
      backup_options: { compression: 'gzip', compression_level: 6, parallel_jobs: 4, exclude_tables: ['logs_*', 'temp_*'] },
    });
    assert.equal(created.status, 201, created.text);
    const job = created.body;
    assert.equal(job.schedule_description, 'Every day at 03:00, America/Sao_Paulo');
    const next = new Date(job.next_execution_at);
    assert.ok(next > new Date());
    assert.equal(next.getUTCHours(), 6, '03:00 in São Paulo is 06:00 UTC');
    assert.deepEqual(job.storage_location_ids, [storages[0].id]);

    const replicated = await app.http('PUT', `/api/backup-jobs/${job.id}`, {
      storage_location_ids: storages.map((s: { id: string }) => s.id),
      storage_strategy: 'replicate',
      enabled: false,
    });
    assert.equal(replicated.status, 200, replicated.text);
    assert.equal(replicated.body.storage_location_ids.length, storages.length);
    assert.equal(replicated.body.next_execution_at, null, 'a disabled job has no next run');

    const inUse = await app.http('DELETE', `/api/datasources/${ds.id}`);
    assert.equal(inUse.status, 409);
    assert.match(inUse.body.error.message, /Backup Diário Produção/);

    const badCron = await app.http('PUT', `/api/backup-jobs/${job.id}`, { schedule_cron: 'every day' });
    assert.equal(badCron.status, 400);
    assert.equal(badCron.body.error.issues[0].path, 'schedule_cron');

    const preview = await app.rpc('jobs.previewSchedule', { schedule_cron: '*/15 * * * *', schedule_timezone: 'UTC' });
    assert.equal(preview.body.data.next_runs.length, 5);

    const gone = await app.http('DELETE', `/api/backup-jobs/${job.id}`);
    assert.equal(gone.status, 200);
    assert.equal((await app.http('GET', `/api/backup-jobs/${job.id}`)).status, 404);
  });
});

describe('settings, events, restart and secrets', () => {
  it('settings round-trip; bad values are refused per key', async () => {
    const initial = await app.http('GET', '/api/system/settings');
    assert.equal(initial.body['system.max_concurrent_backups'], 3);
    const updated = await app.http('PUT', '/api/system/settings', {
      'system.max_concurrent_backups': 2,
      'notifications.webhook_url': 'https://hooks.example.com/x',
    });
    assert.equal(updated.body['system.max_concurrent_backups'], 2);
    const bad = await app.http('PUT', '/api/system/settings', { 'system.max_concurrent_backups': -1 });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.issues[0].path, 'system.max_concurrent_backups');
  });

  it('changes are announced over SSE', async () => {
    const controller = new AbortController();
    const res = await app.fetch('/api/events', { signal: controller.signal });
    const reader = res.body!.getReader();
    await app.http('POST', '/api/storage-locations', { name: 'Evented', type: 'local', config: { path: folder() } });
    let text = '';
    while (!text.includes('entity.changed')) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    assert.match(text, /event: entity.changed\ndata: \{"entity":"storage"/);
  });

  it('cross-origin calls and non-JSON bodies are refused, even with the token; no body at all means the defaults', async () => {
    const cross = await app.fetch('/api/rpc/datasources.list', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: 'https://evil.example' },
      body: '{}',
    });
    assert.equal(cross.status, 403);
    const form = await app.fetch('/api/rpc/settings.update', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: '{}' });
    assert.equal(form.status, 415);
    const urlEncoded = await app.fetch('/api/rpc/settings.update', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'system.max_concurrent_backups=1',
    });
    assert.equal(urlEncoded.status, 415);
    const noBody = await app.fetch('/api/rpc/system.info', { method: 'POST' });
    assert.equal(noBody.status, 200);
    assert.equal(((await noBody.json()) as Json).data.mode, 'headless');
  });

  it('everything survives a restart of the app', async () => {
    const before = await Promise.all(['/api/datasources', '/api/storage-locations', '/api/backup-jobs', '/api/system/settings'].map((r) => app.http('GET', r)));
    await app.restart();
    const afterRestart = await Promise.all(
      ['/api/datasources', '/api/storage-locations', '/api/backup-jobs', '/api/system/settings'].map((r) => app.http('GET', r)),
    );
    // What the health checks observe is live, not configuration: the restarted app checks at once and may record new values.
    const LIVE = ['status', 'last_health_check_at', 'available_space_gb', 'updated_at'];
    const configured = (body: Json) =>
      Array.isArray(body) ? body.map((row: Json) => Object.fromEntries(Object.entries(row).filter(([k]) => !LIVE.includes(k)))) : body;
    assert.deepEqual(
      afterRestart.map((a) => configured(a.body)),
      before.map((b) => configured(b.body)),
    );
    const tested = await app.rpc('datasources.test', { id: before[0]!.body[0].id });
    assert.equal(tested.body.data.ok, true, 'stored secrets still decrypt after a restart');
  });

  it('no password or key is stored in plain text, nor present in any answer', async () => {
    const client = new pg.Client({ connectionString: (app.core.db.options as { url: string }).url });
    await client.connect();
    const rows = await client.query(`SELECT connection_config::text AS c FROM datasources UNION ALL SELECT config::text FROM storage_locations`);
    await client.end();
    const stored = rows.rows.map((r) => r.c).join('\n');
    // (s3rver's secret is the same word as its access key id, which is not secret, so it cannot be checked here.)
    const secrets = [servers.pg.password, servers.maria.password, servers.ssh.password, servers.ssh.privateKey.split('\n')[1]!];
    for (const secret of secrets) {
      assert.ok(!stored.includes(secret), 'secret stored in plain text');
      assert.ok(!app.transcript.some((t) => t.includes(secret)), 'secret present in an answer');
    }
    assert.match(stored, /enc:v1:/);
  });

  it('a non-loopback bind without a password is refused', async () => {
    const { startHttpServer } = await import('../../electron/server/http.js');
    await assert.rejects(startHttpServer(app.core, { host: '0.0.0.0', port: 0, token: app.token }), /DG_PASSWORD/);
    await assert.rejects(startHttpServer(app.core, { host: '0.0.0.0', port: 0, token: app.token, password: 'long enough' }), /TLS/);
  });
});
