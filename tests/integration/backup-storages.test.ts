import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { startPostgres, startS3, startSshd } from '../harness/index.js';
import { pgTool } from '../../electron/core/engines/postgres/tools.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';
import { recoverByHand, runJob, sh, waitForExecution } from '../support/backups.js';

let app: AppUnderTest;
let ssh: Awaited<ReturnType<typeof startSshd>>;
let s3: Awaited<ReturnType<typeof startS3>>;
let pg: Awaited<ReturnType<typeof startPostgres>>;
let work: string;
let bigFolderId: string;
let bigSource: string;

async function create(channel: string, input: unknown) {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, r.text);
  return r.body.data;
}

const localStorage = async (name: string) => {
  const dir = path.join(work, name);
  mkdirSync(dir);
  return { dir, storage: await create('storages.create', { name, type: 'local', config: { path: dir } }) };
};

before(async () => {
  work = mkdtempSync('/tmp/dg-backup-storages-');
  chmodSync(work, 0o755);
  [ssh, s3, pg] = await Promise.all([startSshd(), startS3(), startPostgres()]);
  await s3.createBucket('dg-backups');
  app = await startApp();
  // 20 MB that does not compress: three 9 MB parts, each one an S3 multipart upload (parts ≥ 8 MiB).
  bigSource = path.join(work, 'big');
  mkdirSync(bigSource);
  for (let i = 0; i < 4; i++) writeFileSync(path.join(bigSource, `blob-${i}.bin`), randomBytes(5 * 1024 * 1024));
  bigFolderId = (await create('datasources.create', { name: 'Big folder', type: 'files', connection_config: { source_path: bigSource } })).id;
});

after(async () => {
  await app?.stop();
  await Promise.all([ssh?.stop(), s3?.stop(), pg?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

describe('every storage type holds a chunked backup', () => {
  it('SFTP on a real sshd: three parts, recoverable by hand', async () => {
    const storage = await create('storages.create', {
      name: 'NAS',
      type: 'ssh',
      config: { host: ssh.host, port: ssh.port, username: ssh.username, private_key: ssh.privateKey, remote_path: ssh.remoteDir },
    });
    const execution = await runJob(app, {
      name: 'to sftp',
      datasource_id: bigFolderId,
      storage_location_id: storage.id,
      backup_options: { compression: 'lz4', max_file_size_mb: 9 },
    });
    assert.equal(execution.status, 'completed', execution.error_message);
    assert.equal(execution.chunks.length, 3);
    const { file } = recoverByHand(path.join(ssh.remoteDir, execution.backup_path), mkdtempSync(path.join(work, 'out-')));
    const tree = mkdtempSync(path.join(work, 'tree-'));
    sh(`tar -xf ${file} -C ${tree} && cmp ${tree}/blob-3.bin ${bigSource}/blob-3.bin`);
  });

  for (const type of ['s3', 'minio'] as const) {
    it(`${type} on a real S3-compatible server: three parts by multipart upload, recoverable`, async () => {
      const config =
        type === 's3'
          ? {
              endpoint: s3.endpoint,
              bucket: 'dg-backups',
              region: s3.region,
              access_key_id: s3.accessKeyId,
              secret_access_key: s3.secretAccessKey,
              force_path_style: true,
              prefix: 'aws-style',
            }
          : { endpoint: s3.endpoint, bucket: 'dg-backups', access_key: s3.accessKeyId, secret_key: s3.secretAccessKey, prefix: 'minio-style' };
      const storage = await create('storages.create', { name: type, type, config });
      const execution = await runJob(app, {
        name: `to ${type}`,
        datasource_id: bigFolderId,
        storage_location_id: storage.id,
        backup_options: { compression: 'none', max_file_size_mb: 9 },
      });
      assert.equal(execution.status, 'completed', execution.error_message);
      assert.equal(execution.chunks.length, 3);
      // Fetch the objects with the plain AWS SDK into a folder, then recover them by hand.
      const client = new S3Client({ ...s3.clientConfig });
      const listed = await client.send(new ListObjectsV2Command({ Bucket: 'dg-backups', Prefix: `${config.prefix}/${execution.backup_path}/` }));
      const folder = mkdtempSync(path.join(work, 'fetched-'));
      for (const object of listed.Contents ?? []) {
        const got = await client.send(new GetObjectCommand({ Bucket: 'dg-backups', Key: object.Key! }));
        writeFileSync(path.join(folder, path.basename(object.Key!)), Buffer.from(await got.Body!.transformToByteArray()));
      }
      assert.deepEqual(readdirSync(folder).sort(), ['backup.tar.part-001', 'backup.tar.part-002', 'backup.tar.part-003', 'manifest.json', 'toc.json.gz']);
      recoverByHand(folder, mkdtempSync(path.join(work, 'out-')));
    });
  }
});

describe('faults', () => {
  it('cancel mid-dump stops the work and leaves no object on the storage', async () => {
    const { dir, storage } = await localStorage('cancel-target');
    const job = await create('jobs.create', {
      name: 'slow',
      datasource_id: bigFolderId,
      storage_location_id: storage.id,
      schedule_cron: '0 3 * * *',
      backup_options: { compression: 'gzip', compression_level: 9, max_file_size_mb: 2 },
    });
    const run = await create('jobs.run', { id: job.id });
    const again = await app.rpc('jobs.run', { id: job.id });
    assert.equal(again.body.error.code, 'busy', 'a second Run now does not stack');
    // Wait until some bytes are stored, then cancel.
    for (let i = 0; i < 200; i++) {
      if (readdirSync(dir, { recursive: true }).some((f) => String(f).includes('part-001') || String(f).includes('.tmp-'))) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    await create('executions.cancel', { id: run.execution_id });
    const execution = await waitForExecution(app, run.execution_id);
    assert.equal(execution.status, 'cancelled');
    const left = readdirSync(dir, { recursive: true })
      .map(String)
      .filter((f) => !f.startsWith('_system'));
    assert.deepEqual(
      left.filter((f) => statSync(path.join(dir, f)).isFile()),
      [],
      `left behind: ${left}`,
    );
  });

  it('fallback skips a storage that refuses writes; replicate records the failed copy', async () => {
    const broken = await localStorage('broken');
    const good = await localStorage('good');
    const other = await localStorage('other');
    // The folder disappears and a file takes its name: every write there fails.
    rmSync(broken.dir, { recursive: true });
    writeFileSync(broken.dir, 'not a folder');
    const small = (await create('datasources.create', { name: 'Small', type: 'files', connection_config: { source_path: path.join(bigSource) } })).id;

    const fallback = await runJob(app, {
      name: 'fallback',
      datasource_id: small,
      storage_location_ids: [broken.storage.id, good.storage.id, other.storage.id],
      storage_strategy: 'fallback',
      backup_options: { compression: 'zstd' },
    });
    assert.equal(fallback.status, 'completed', fallback.error_message);
    const byName = (e: Json) => Object.fromEntries(e.copies.map((c: Json) => [c.storage_name, c.status]));
    assert.deepEqual(byName(fallback), { broken: 'failed', good: 'completed', other: 'skipped' });
    assert.ok(fallback.copies.find((c: Json) => c.storage_name === 'broken').error_message);

    const replicate = await runJob(app, {
      name: 'replicate',
      datasource_id: small,
      storage_location_ids: [good.storage.id, broken.storage.id, other.storage.id],
      storage_strategy: 'replicate',
      backup_options: { compression: 'zstd' },
    });
    assert.equal(replicate.status, 'completed');
    assert.deepEqual(byName(replicate), { good: 'completed', broken: 'failed', other: 'completed' });
    assert.match(replicate.error_message, /broken/);
    recoverByHand(path.join(other.dir, replicate.backup_path), mkdtempSync(path.join(work, 'out-')));
    const notes = (await app.http('GET', '/api/notifications?type=backup_success')).body;
    assert.ok(notes.some((n: Json) => n.severity === 'warning' && /failed copies/.test(n.title)));

    // The Storage page: what our backups take on each, counted from the copies that completed.
    const used = Object.fromEntries(((await app.http('GET', '/api/storage-locations')).body as Json[]).map((s) => [s.name, [s.backups_count, s.used_bytes]]));
    assert.deepEqual(used.good, [2, fallback.compressed_size_bytes + replicate.compressed_size_bytes]);
    assert.deepEqual(used.other, [1, replicate.compressed_size_bytes]);
    assert.deepEqual(used.broken, [0, 0]);
    const one = await app.http('GET', `/api/storage-locations/${good.storage.id}`);
    assert.deepEqual([one.body.backups_count, one.body.used_bytes], used.good);
  });

  it("a wrong password fails with the engine's message and a backup_failed notification", async () => {
    const { storage } = await localStorage('for-failures');
    const ds = await create('datasources.create', {
      name: 'Locked',
      type: 'postgres',
      save_anyway: true,
      connection_config: { host: pg.host, port: pg.port, database: 'postgres', username: pg.user, password: 'wrong' },
    });
    const execution = await runJob(app, { name: 'locked', datasource_id: ds.id, storage_location_id: storage.id });
    assert.equal(execution.status, 'failed');
    assert.match(execution.error_message, /password authentication failed/);
    const notes = (await app.http('GET', '/api/notifications?type=backup_failed')).body;
    assert.ok(notes.some((n: Json) => n.metadata.execution_id === execution.id));
  });

  it('MongoDB and SQL Server jobs fail at once with "not supported yet", never a fake success', async () => {
    const { storage } = await localStorage('for-mongo');
    const ds = await create('datasources.create', {
      name: 'Mongo',
      type: 'mongodb',
      save_anyway: true,
      connection_config: { host: '127.0.0.1', port: 1, database: 'x', username: 'u' },
    });
    const execution = await runJob(app, { name: 'mongo', datasource_id: ds.id, storage_location_id: storage.id });
    assert.equal(execution.status, 'failed');
    assert.match(execution.error_message, /not supported yet/);
  });

  it('a pg_dump older than the server is refused with the version needed', async () => {
    // The machine's real pg_dump (15) asked to dump a PostgreSQL 17 server.
    await assert.rejects(pgTool('pg_dump', 17), /pg_dump 15 cannot dump a PostgreSQL 17 server: install postgresql-client-17/);
    assert.match(await pgTool('pg_dump', 15), /pg_dump$/);
  });
});
