// One small file deep in a 300 MB folder backup, taken out of its copies on S3 (s3rver) and SFTP (OpenSSH): only the
// frames that hold it are read, by range requests. What the storage answered is counted as it arrives, and stays
// under 10 MB.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { startS3, startSshd, type S3Server, type SshServer } from '../harness/index.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';
import { runJob, waitForExecution } from '../support/backups.js';

let app: AppUnderTest;
let ssh: SshServer;
let s3: S3Server;
let work: string;

async function call(channel: string, input: unknown = {}) {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, r.text);
  return r.body.data;
}

const UNITS: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9 };

before(async () => {
  work = mkdtempSync('/tmp/dg-take-out-remote-');
  chmodSync(work, 0o755);
  [app, ssh, s3] = await Promise.all([startApp(), startSshd(), startS3()]);
  await s3.createBucket('dg-backups');
});

after(async () => {
  await Promise.all([app?.stop(), ssh?.stop(), s3?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

it('one 10 KB file of a 300 MB backup on S3 and on SFTP: under 10 MB read from each', async () => {
  const src = path.join(work, 'archive');
  for (let i = 0; i < 10; i++) {
    mkdirSync(path.join(src, `year-${i}`), { recursive: true });
    writeFileSync(path.join(src, `year-${i}`, 'scans.bin'), randomBytes(30 * 1024 * 1024));
  }
  const deep = path.join(src, 'year-5', 'deep', 'down');
  mkdirSync(deep, { recursive: true });
  writeFileSync(path.join(deep, 'note.txt'), randomBytes(10 * 1024));
  const [onS3, onSftp] = await Promise.all([
    call('storages.create', {
      name: 'Bucket',
      type: 's3',
      config: {
        endpoint: s3.endpoint,
        bucket: 'dg-backups',
        region: s3.region,
        access_key_id: s3.accessKeyId,
        secret_access_key: s3.secretAccessKey,
        force_path_style: true,
        prefix: 'office',
      },
    }),
    call('storages.create', {
      name: 'NAS',
      type: 'ssh',
      config: { host: ssh.host, port: ssh.port, username: ssh.username, private_key: ssh.privateKey, remote_path: ssh.remoteDir },
    }),
  ]);
  const ds = await call('datasources.create', { name: 'Archive', type: 'files', connection_config: { source_path: src } });
  const backup = await runJob(app, {
    name: 'Archive',
    datasource_id: ds.id,
    storage_location_ids: [onS3.id, onSftp.id],
    storage_strategy: 'replicate',
    backup_options: { compression: 'zstd', max_file_size_mb: 100 },
  });
  assert.equal(backup.status, 'completed', backup.error_message);
  assert.ok(backup.compressed_size_bytes > 300e6, `${backup.compressed_size_bytes} bytes stored`);

  for (const storage of [onS3, onSftp]) {
    const into = path.join(work, `from-${storage.name}`);
    const r = await app.http('POST', `/api/backups/${backup.id}/restore`, {
      target_path: into,
      storage_location_id: storage.id,
      paths: ['year-5/deep/down/note.txt'],
    });
    assert.equal(r.status, 202, r.text);
    const done: Json = await waitForExecution(app, r.body.execution_id);
    assert.equal(done.status, 'completed', done.error_message);
    const logs = done.metadata.execution_logs.map((l: Json) => l.message).join('\n');
    const m = new RegExp(`([\\d.]+) (B|KB|MB|GB) read from ${storage.name} \\(of`).exec(logs);
    assert.ok(m, logs);
    const read = Number(m[1]) * UNITS[m[2]!]!;
    assert.ok(read < 10e6, `${storage.name}: ${m[0]}`);
    assert.ok(readFileSync(path.join(into, 'year-5/deep/down/note.txt')).equals(readFileSync(path.join(deep, 'note.txt'))));
  }
});
