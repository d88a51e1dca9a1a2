// Encrypted backups through the app against real servers, opened by hand with Debian's `age`: the hand
// restore, nothing readable on any storage, tampering, write-only mode, and a lost machine rebuilt from
// the recovery kit. The recovery key lives in this test's memory and in one 0600 key file for `age -d`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { startPostgres, startS3, startSshd } from '../harness/index.js';
import { startApp, type AppUnderTest, type Json } from '../support/app.js';
import { ManualClock } from '../support/clock.js';
import { runJob, sh, waitForExecution } from '../support/backups.js';

const MARKER = 'DG-MARKER-c0ffee-7f3a9c51';

let app: AppUnderTest;
let pg: Awaited<ReturnType<typeof startPostgres>>;
let ssh: Awaited<ReturnType<typeof startSshd>>;
let s3: Awaited<ReturnType<typeof startS3>>;
let work: string;
let localDir: string;
let local: { id: string };
let sftp: { id: string };
let bucket: { id: string };
let shop: { id: string };
let folder: { id: string };
let folderSource: string;
/** The setup's one answer: the recovery identity, kept only here. */
let keys: { recovery_identity: string; recovery_recipient: string; app_recipient: string };
let keyFile: string;

async function call(channel: string, input: unknown = {}) {
  const r = await app.rpc(channel, input);
  assert.ok(r.body.ok, r.text);
  return r.body.data;
}

const orders = async (db: string) =>
  (await pg.query<{ n: string; sum: string }>(`SELECT count(*)::text AS n, md5(string_agg(t::text, ',' ORDER BY id)) AS sum FROM orders t`, db))[0];

/** Every byte a local folder holds, file by file. */
function filesUnder(dir: string): { file: string; bytes: Buffer }[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const file = path.join(e.parentPath, e.name);
      return { file, bytes: readFileSync(file) };
    });
}

function flipByte(file: string, at = Math.floor(statSync(file).size / 2)) {
  const fd = openSync(file, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, at);
  b[0] = b[0]! ^ 0x01;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
}

before(async () => {
  work = mkdtempSync('/tmp/dg-encryption-');
  execFileSync('chmod', ['755', work]);
  [pg, ssh, s3] = await Promise.all([startPostgres(), startSshd(), startS3()]);
  await s3.createBucket('dg-enc');
  app = await startApp();
  localDir = path.join(work, 'storage');
  mkdirSync(localDir);
  local = await call('storages.create', { name: 'Local', type: 'local', config: { path: localDir } });
  sftp = await call('storages.create', {
    name: 'NAS',
    type: 'ssh',
    config: { host: ssh.host, port: ssh.port, username: ssh.username, private_key: ssh.privateKey, remote_path: ssh.remoteDir },
  });
  bucket = await call('storages.create', {
    name: 'Bucket',
    type: 'minio',
    config: { endpoint: s3.endpoint, bucket: 'dg-enc', access_key: s3.accessKeyId, secret_key: s3.secretAccessKey, prefix: 'office' },
  });
  await pg.createDatabase('shop');
  // md5 text compresses about in half: ~6 MB raw makes at least three 1 MB parts with any compression.
  await pg.query(
    `CREATE TABLE orders AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS note FROM generate_series(1, 90000) g;
     ALTER TABLE orders ADD PRIMARY KEY (id);
     INSERT INTO orders VALUES (90001, '${MARKER}');`,
    'shop',
  );
  shop = await call('datasources.create', {
    name: 'Shop',
    type: 'postgres',
    connection_config: { host: pg.host, port: pg.port, database: 'shop', username: pg.user, password: pg.password },
  });
  folderSource = path.join(work, 'documents');
  mkdirSync(folderSource);
  writeFileSync(path.join(folderSource, 'contract.txt'), `Signed. ${MARKER}\n`.repeat(50));
  folder = await call('datasources.create', { name: 'Documents', type: 'files', connection_config: { source_path: folderSource } });
});

after(async () => {
  await app?.stop();
  await Promise.all([pg?.stop(), ssh?.stop(), s3?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

describe('setting up encryption', () => {
  it('before setup a job defaults to no encryption, and age is refused', async () => {
    const state = await call('encryption.get');
    assert.equal(state.set_up, false);
    const refused = await app.rpc('jobs.create', {
      name: 'too early',
      datasource_id: shop.id,
      storage_location_id: local.id,
      schedule_cron: '0 3 * * *',
      backup_options: { encryption: 'age' },
    });
    assert.equal(refused.body.error.code, 'validation_error');
    assert.match(refused.body.error.message, /Settings → Encryption/);
  });

  it('setup answers the recovery identity once; GET never shows an identity', async () => {
    const r = await app.http('POST', '/api/encryption/setup', {});
    assert.equal(r.status, 200, r.text);
    keys = r.body;
    assert.match(keys.recovery_identity, /^AGE-SECRET-KEY-1[0-9A-Z]{58}$/);
    assert.match(keys.recovery_recipient, /^age1/);
    assert.notEqual(keys.app_recipient, keys.recovery_recipient);
    keyFile = path.join(work, 'recovery-key.txt');
    writeFileSync(keyFile, `# public key: ${keys.recovery_recipient}\n${keys.recovery_identity}\n`, { mode: 0o600 });
    const state = await app.http('GET', '/api/encryption');
    assert.equal(state.body.set_up, true);
    assert.equal(state.body.write_only, false);
    assert.deepEqual(state.body.backup_recipients, [keys.app_recipient, keys.recovery_recipient]);
    assert.doesNotMatch(state.text, /AGE-SECRET-KEY/);
    const again = await app.http('POST', '/api/encryption/setup', {});
    assert.equal(again.status, 409, 'a second setup needs replace: true');
  });

  it('a new job defaults to age once keys exist', async () => {
    const job = await call('jobs.create', { name: 'defaults', datasource_id: shop.id, storage_location_id: local.id, schedule_cron: '0 3 * * *' });
    assert.equal(job.backup_options.encryption, 'age');
    const plain = await call('jobs.create', {
      name: 'in the clear',
      datasource_id: shop.id,
      storage_location_id: local.id,
      schedule_cron: '0 3 * * *',
      backup_options: { encryption: 'none' },
    });
    assert.equal(plain.backup_options.encryption, 'none');
    // An edit that leaves the choice out keeps it.
    const edited = await call('jobs.update', { id: job.id, backup_options: { compression: 'lz4' } });
    assert.equal(edited.backup_options.encryption, 'age');
    await call('jobs.delete', { id: job.id });
    await call('jobs.delete', { id: plain.id });
  });
});

describe('restore by hand with age and the standard tools', () => {
  const decompress = { zstd: 'zstd -dc', gzip: 'gzip -dc', lz4: 'lz4 -dc' } as const;
  for (const compression of ['zstd', 'gzip', 'lz4'] as const) {
    it(`${compression}: three parts, cat | age -d -i recovery-key.txt | ${decompress[compression]} | pg_restore into a new database`, async () => {
      const backup = await runJob(app, {
        name: `Shop ${compression}`,
        datasource_id: shop.id,
        storage_location_id: local.id,
        backup_options: { compression, max_file_size_mb: 1 },
      });
      assert.equal(backup.status, 'completed', backup.error_message);
      assert.ok(backup.chunks.length >= 3, `${backup.chunks.length} parts`);
      const ext = { zstd: 'zst', gzip: 'gz', lz4: 'lz4' }[compression];
      assert.match(backup.chunks[0].file_path, new RegExp(`backup\\.dump\\.${ext}\\.age\\.part-001$`));
      assert.deepEqual(backup.metadata.encryption, { format: 'age', recipients: [keys.app_recipient, keys.recovery_recipient] });
      const dir = path.join(localDir, backup.backup_path);
      const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
      assert.deepEqual(manifest.encryption, { format: 'age', recipients: [keys.app_recipient, keys.recovery_recipient] });
      // The checksums are over the encrypted bytes: sha256sum checks them without a key.
      for (const chunk of manifest.chunks) assert.equal(`sha256:${sh(`sha256sum ${path.join(dir, chunk.file)}`).split(' ')[0]}`, chunk.checksum);
      assert.equal(`sha256:${sh(`cat ${dir}/backup.dump.${ext}.age.part-* | sha256sum`).split(' ')[0]}`, manifest.checksum);
      const db = `by_hand_${compression}`;
      await pg.query(`CREATE DATABASE ${db}`);
      sh(`cd ${dir} && cat backup.dump.${ext}.age.part-* | age -d -i ${keyFile} | ${decompress[compression]} | pg_restore --no-owner -d "${pg.url(db)}"`);
      assert.deepEqual(await orders(db), await orders('shop'));
    });
  }
});

describe('nothing readable on storage', () => {
  it('a marker in a table and in a file appears in no stored byte on local, SFTP and S3, nor in any manifest', async () => {
    for (const [name, datasource] of [
      ['table', shop],
      ['file', folder],
    ] as const) {
      const backup = await runJob(app, {
        name: `Marker in a ${name}`,
        datasource_id: datasource.id,
        storage_location_ids: [local.id, sftp.id, bucket.id],
        storage_strategy: 'replicate',
        // Uncompressed, so that only the encryption can hide the marker.
        backup_options: { compression: 'none', max_file_size_mb: 2 },
      });
      assert.equal(backup.status, 'completed', backup.error_message);
      assert.deepEqual(
        backup.copies.map((c: Json) => c.status),
        ['completed', 'completed', 'completed'],
      );
    }
    const stored = [...filesUnder(localDir), ...filesUnder(ssh.remoteDir)];
    const client = new S3Client({ ...s3.clientConfig });
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'dg-enc', Prefix: 'office/' }));
    for (const object of listed.Contents ?? []) {
      const got = await client.send(new GetObjectCommand({ Bucket: 'dg-enc', Key: object.Key! }));
      stored.push({ file: `s3:${object.Key}`, bytes: Buffer.from(await got.Body!.transformToByteArray()) });
    }
    assert.ok(stored.filter((s) => s.file.endsWith('manifest.json')).length >= 6, 'two backups, three copies each');
    assert.ok(stored.some((s) => s.file.includes('backup.tar.age')));
    for (const { file, bytes } of stored) {
      assert.equal(bytes.indexOf(MARKER), -1, `${file} holds the marker in the clear`);
      assert.equal(bytes.indexOf('contract.txt'), -1, `${file} names a file of the folder`);
    }
  });
});
