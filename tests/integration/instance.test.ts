// One data folder, one running DataGuardian: real server processes (`node dist/server/cli.js`, embedded
// PostgreSQL and all), started twice on one folder, and killed with -9 mid-backup.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { freePort, startS3, startSshd, tempDir, type S3Server, type SshServer } from '../harness/index.js';
import type { Json } from '../support/app.js';
import { spawnServer, startServer, type ServerProcess } from '../support/server-process.js';

const BUCKET = 'dg-instance';
let work: string;
let s3: S3Server;
let ssh: SshServer;
const servers: ServerProcess[] = [];

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | null | false> | T | undefined | null | false): Promise<T> {
  for (const end = Date.now() + timeoutMs; ;) {
    const found = await probe();
    if (found) return found;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A folder of `count` 10 MB files that do not compress. */
function bigFolder(name: string, count: number): string {
  const dir = path.join(work, name);
  mkdirSync(dir);
  for (let i = 0; i < count; i++) writeFileSync(path.join(dir, `blob-${i}.bin`), randomBytes(10 * 1024 * 1024));
  return dir;
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

const digest = (dir: string) =>
  filesUnder(dir).map(
    (f) =>
      `${f} ${createHash('sha256')
        .update(readFileSync(path.join(dir, f)))
        .digest('hex')}`,
  );

/** The embedded metadata server's pid, as its pid file says. */
const postmaster = (dataDir: string) => Number(readFileSync(path.join(dataDir, 'metadata-db', 'postmaster.pid'), 'utf8').split('\n')[0]);

async function waitForEnd(server: ServerProcess, id: string, timeoutMs = 300_000): Promise<Json> {
  return until(`execution ${id} to end`, timeoutMs, async () => {
    const e = await server.rpc('executions.get', { id });
    return ['queued', 'running'].includes(e.status) ? undefined : e;
  });
}

before(async () => {
  // Traversable by `postgres`: the embedded server runs as that user when the tests run as root.
  work = await tempDir('dg-instance-', { mode: 0o755 });
  [s3, ssh] = await Promise.all([startS3(), startSshd()]);
  await s3.createBucket(BUCKET);
});

after(async () => {
  for (const s of servers) await s.stop().catch(() => undefined);
  await Promise.all([s3?.stop(), ssh?.stop()]);
});

describe('one data folder, one running DataGuardian', () => {
  it('a second start on a folder in use exits with the message and touches nothing: the first one’s 300 MB backup completes and restores identical', async () => {
    const dataDir = path.join(work, 'data-two');
    mkdirSync(dataDir, { mode: 0o755 });
    const first = await startServer(dataDir, await freePort());
    servers.push(first);
    const source = bigFolder('two-source', 30);
    const storageDir = path.join(work, 'two-storage');
    mkdirSync(storageDir);
    const ds = await first.rpc('datasources.create', { name: 'Shared drive', type: 'files', connection_config: { source_path: source } });
    const storage = await first.rpc('storages.create', { name: 'Disk', type: 'local', config: { path: storageDir } });
    const job = await first.rpc('jobs.create', {
      name: 'Shared drive',
      datasource_id: ds.id,
      storage_location_id: storage.id,
      schedule_cron: '0 3 * * *',
      backup_options: { compression: 'zstd', max_file_size_mb: 50 },
    });
    const metadataPid = postmaster(dataDir);
    const run = await first.rpc('jobs.run', { id: job.id });
    await until('the backup to run', 30_000, async () => (await first.rpc('executions.get', { id: run.execution_id })).status === 'running');

    const second = spawnServer(dataDir, await freePort());
    const started = Date.now();
    const code = await Promise.race([second.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000))]);
    if (code === 'hung') second.child.kill('SIGKILL');
    assert.equal(code, 3, `the second start ended ${code} after ${Date.now() - started} ms: ${second.output()}`);
    assert.equal(
      second.output().trim(),
      `DataGuardian is already running with this data folder (pid ${first.child.pid}, ${first.url}). Open that, or stop it first.`,
    );
    // Nothing of the second was left in the folder: no private temp folder of its pid.
    assert.deepEqual(
      readdirSync(path.join(dataDir, 'tmp')).filter((n) => n.startsWith(`dataguardian-${second.child.pid}-`)),
      [],
    );

    const backup = await waitForEnd(first, run.execution_id);
    assert.equal(backup.status, 'completed', backup.error_message);
    assert.equal(postmaster(dataDir), metadataPid, 'the metadata database is the one the first started');
    assert.equal((await first.http('GET', '/api/datasources')).status, 200, 'the first still answers');

    const target = path.join(work, 'two-restored');
    const restore = await first.rpc('backups.restore', { id: backup.id, target_path: target, safety_backup: false });
    const restored = await waitForEnd(first, restore.execution_id);
    assert.equal(restored.status, 'completed', restored.error_message);
    assert.deepEqual(digest(target), digest(source));
    await first.stop();
  });

  it('kill -9 mid-backup (400 MB to a folder, SFTP and S3), restart at once: the run is failed "Interrupted" within 10 s, nothing is left anywhere', async () => {
    const dataDir = path.join(work, 'data-kill');
    mkdirSync(dataDir, { mode: 0o755 });
    const port = await freePort();
    const server = await startServer(dataDir, port);
    servers.push(server);
    const source = bigFolder('kill-source', 40);
    const localDir = path.join(work, 'kill-storage');
    mkdirSync(localDir);
    const ds = await server.rpc('datasources.create', { name: 'Archive', type: 'files', connection_config: { source_path: source } });
    const local = await server.rpc('storages.create', { name: 'Disk', type: 'local', config: { path: localDir } });
    const sftp = await server.rpc('storages.create', {
      name: 'NAS',
      type: 'ssh',
      config: { host: ssh.host, port: ssh.port, username: ssh.username, private_key: ssh.privateKey, remote_path: ssh.remoteDir },
    });
    const bucket = await server.rpc('storages.create', {
      name: 'Bucket',
      type: 's3',
      config: {
        endpoint: s3.endpoint,
        bucket: BUCKET,
        region: s3.region,
        access_key_id: s3.accessKeyId,
        secret_access_key: s3.secretAccessKey,
        force_path_style: true,
      },
    });
    const job = await server.rpc('jobs.create', {
      name: 'Archive',
      datasource_id: ds.id,
      storage_location_ids: [local.id, sftp.id, bucket.id],
      storage_strategy: 'replicate',
      schedule_cron: '0 3 * * *',
      backup_options: { compression: 'none', max_file_size_mb: 50 },
    });
    const run = await server.rpc('jobs.run', { id: job.id });
    // The folder and SFTP copies are written, S3 is mid-way through a multipart upload.
    const uploads = path.join(s3.dir, BUCKET, '._S3rver_uploads');
    await until('an S3 multipart upload in progress', 300_000, () => filesUnder(uploads).length > 2);
    server.child.kill('SIGKILL');
    await server.exited;
    assert.ok(filesUnder(path.join(localDir, job.id)).length > 0, 'the kill left files in the folder');
    assert.ok(filesUnder(path.join(ssh.remoteDir, job.id)).length > 0, 'the kill left files on SFTP');

    const restartedAt = Date.now();
    const restarted = await startServer(dataDir, port);
    servers.push(restarted);
    const failed = await until('the run to be failed as interrupted', 30_000, async () => {
      const e = await restarted.rpc('executions.get', { id: run.execution_id });
      return e.status === 'failed' ? e : undefined;
    });
    const seconds = (Date.now() - restartedAt) / 1000;
    assert.ok(seconds < 10, `failed ${seconds.toFixed(1)} s after the restart`);
    assert.match(failed.error_message, /^Interrupted/);

    await until('every partial copy to be removed', 60_000, async () => {
      const e = await restarted.rpc('executions.get', { id: run.execution_id });
      return e.copies.every((c: { backup_path: string | null }) => c.backup_path === null);
    });
    assert.deepEqual(filesUnder(path.join(localDir, job.id)), []);
    assert.deepEqual(filesUnder(path.join(ssh.remoteDir, job.id)), []);
    const client = new S3Client(s3.clientConfig);
    try {
      const objects = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${job.id}/` }));
      assert.equal(objects.KeyCount ?? 0, 0, JSON.stringify(objects.Contents?.map((o) => o.Key)));
      const open = await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
      assert.equal(open.Uploads?.length ?? 0, 0);
    } finally {
      client.destroy();
    }
    await restarted.stop();
  });
});
