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
const clock = new ManualClock('2026-03-02T10:00:00Z');

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
  app = await startApp({ clock });
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

/** A restore through the API; answers the ended execution (or the refusal when it was refused at once). */
async function restore(backupId: string, body: Record<string, unknown>) {
  const r = await app.http('POST', `/api/backups/${backupId}/restore`, body);
  if (r.status !== 202) return { refused: r.body.error };
  return waitForExecution(app, r.body.execution_id);
}

/** Greps a folder, binary files included, for a string: the files that hold it. */
const holding = (dir: string, needle: string) => {
  try {
    return sh(`grep -rlaF -- ${JSON.stringify(needle)} ${JSON.stringify(dir)}`)
      .trim()
      .split('\n')
      .filter(Boolean);
  } catch {
    return [];
  }
};

describe('restoring encrypted backups in the app', () => {
  let backup: Json;
  let other: Json;
  let dir: string;
  let atBackup: Json;

  before(async () => {
    atBackup = await orders('shop');
    backup = await runJob(app, {
      name: 'Shop tamper',
      datasource_id: shop.id,
      storage_location_id: local.id,
      backup_options: { compression: 'zstd', max_file_size_mb: 1 },
    });
    other = await runJob(app, {
      name: 'Shop other',
      datasource_id: shop.id,
      storage_location_id: local.id,
      backup_options: { compression: 'zstd', max_file_size_mb: 1 },
    });
    assert.ok(backup.chunks.length >= 3 && other.chunks.length >= 3);
    dir = path.join(localDir, backup.backup_path);
  });

  it('with the app key: a restore into a new database holds the same rows', async () => {
    const done = await restore(backup.id, { target_database: 'app_restore' });
    assert.equal(done.status, 'completed', done.error_message);
    assert.deepEqual(await orders('app_restore'), atBackup);
    assert.ok(done.metadata.execution_logs.some((l: Json) => /decrypted and decompressed/.test(l.message)));
  });

  it('the download is as stored; ?decrypt=true gives the compressed dump', async () => {
    const stored = await app.fetch(`/api/executions/${backup.id}/download`);
    assert.equal(stored.status, 200);
    assert.match(stored.headers.get('content-disposition')!, /\.dump\.zst\.age"/);
    const bytes = Buffer.from(await stored.arrayBuffer());
    assert.equal(bytes.subarray(0, 22).toString(), 'age-encryption.org/v1\n');
    const plain = await app.fetch(`/api/executions/${backup.id}/download?decrypt=true`);
    assert.equal(plain.status, 200);
    assert.match(plain.headers.get('content-disposition')!, /\.dump\.zst"/);
    const file = path.join(work, 'downloaded.dump.zst');
    writeFileSync(file, Buffer.from(await plain.arrayBuffer()));
    sh(`zstd -dqf ${file} -o ${file}.dump`);
    assert.match(sh(`pg_restore --list ${file}.dump`), /TABLE DATA public orders/);
  });

  const tampered = [
    ['a flipped byte in part-002', 'part-002', () => flipByte(path.join(dir, 'backup.dump.zst.age.part-002'))],
    [
      'a truncated last part',
      'last',
      () => {
        const last = path.join(dir, backup.chunks.at(-1).file_path.split('/').pop());
        truncateSync(last, statSync(last).size - 100);
      },
    ],
    [
      'part-002 swapped with another backup’s',
      'part-002',
      () => copyFileSync(path.join(localDir, other.backup_path, 'backup.dump.zst.age.part-002'), path.join(dir, 'backup.dump.zst.age.part-002')),
    ],
  ] as const;
  for (const [what, part, damage] of tampered) {
    it(`${what}: refused naming the part, the target untouched`, async () => {
      const saved = path.join(work, `saved-${part}`);
      sh(`rm -rf ${saved} && cp -a ${dir} ${saved}`);
      try {
        damage();
        await pg.query(`UPDATE orders SET note = 'after the backup' WHERE id = 1`, 'shop');
        const before = await orders('shop');
        const done = await restore(backup.id, { safety_backup: false });
        assert.equal(done.status, 'failed');
        const name = part === 'last' ? backup.chunks.at(-1).file_path.split('/').pop() : `backup.dump.zst.age.${part}`;
        assert.match(done.error_message, new RegExp(`${name.replace(/\./g, '\\.')} is damaged`));
        assert.match(done.error_message, /was not touched/);
        assert.equal(done.metadata.target_touched, false);
        assert.deepEqual(await orders('shop'), before);
      } finally {
        sh(`rm -rf ${dir} && cp -a ${saved} ${dir}`);
      }
    });
  }
});

describe('no identity in the clear', () => {
  it('the app identity is in no API answer, log or metadata file; the kit holds no password in the clear', async () => {
    // The kit is the one place the app's identity leaves the app, encrypted to the recovery key.
    const kit = await call('config.export', {});
    assert.match(kit.content, /^-----BEGIN AGE ENCRYPTED FILE-----/);
    for (const secret of [pg.password, s3.secretAccessKey, ssh.privateKey.split('\n')[1]!, MARKER])
      assert.ok(!kit.content.includes(secret), 'a secret in the clear');
    const kitFile = path.join(work, 'kit.age');
    writeFileSync(kitFile, kit.content);
    const opened = JSON.parse(sh(`age -d -i ${keyFile} ${kitFile}`));
    assert.equal(opened.datasources.find((d: Json) => d.name === 'Shop').connection_config.password, pg.password);
    const appIdentity = opened.encryption_keys.find((k: Json) => k.role === 'app').identity;
    assert.match(appIdentity, /^AGE-SECRET-KEY-1/);
    await app.core.db.query('CHECKPOINT');
    assert.deepEqual(holding(app.dataDir, appIdentity), [], 'the app identity is stored sealed only');
    assert.deepEqual(holding(app.dataDir, keys.recovery_identity), [], 'the recovery identity is stored nowhere');
    assert.ok(!app.transcript.some((t) => t.includes(appIdentity)), 'no API answer carried the app identity');
  });
});

describe('write-only mode', () => {
  let scheduled: Json;

  it('deleting the app identity keeps backups going on public keys alone: a scheduled backup completes', async () => {
    const refused = await app.http('POST', '/api/encryption/write-only', {});
    assert.equal(refused.status, 400, 'it asks for a confirmation');
    const state = await app.http('POST', '/api/encryption/write-only', { confirm: true });
    assert.equal(state.status, 200, state.text);
    assert.equal(state.body.write_only, true);
    assert.deepEqual(state.body.backup_recipients, [keys.recovery_recipient]);
    const job = await call('jobs.create', {
      name: 'Nightly shop',
      datasource_id: shop.id,
      storage_location_id: local.id,
      schedule_cron: '0 3 * * *',
      // A restore test needs a key: in write-only mode the check after a backup falls back to checksums.
      backup_options: { compression: 'zstd', verify_after_backup: 'restore-test' },
    });
    await clock.set('2026-03-03T03:00:30Z');
    await app.core.scheduler.settled();
    const [row] = (await app.core.db.query(`SELECT id FROM backup_executions WHERE job_id = $1 AND trigger = 'schedule'`, [job.id])) as { id: string }[];
    assert.ok(row, 'the slot ran');
    scheduled = await waitForExecution(app, row.id);
    assert.equal(scheduled.status, 'completed', scheduled.error_message);
    assert.deepEqual(scheduled.metadata.encryption.recipients, [keys.recovery_recipient]);
    // The check is queued just after the backup is recorded.
    let verify: { id: string }[] = [];
    for (let i = 0; i < 100 && verify.length === 0; i++) {
      const sql = `SELECT id FROM backup_executions WHERE operation = 'verify' AND metadata->>'source_execution_id' = $1`;
      verify = (await app.core.db.query(sql, [scheduled.id])) as { id: string }[];
      if (verify.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    const verified = await waitForExecution(app, verify[0]!.id);
    assert.equal(verified.metadata.method, 'checksum');
    assert.equal(verified.status, 'completed', verified.error_message);
  });

  it('a restore without an identity asks for one; a wrong one is refused naming the keys', async () => {
    const asked = await restore(scheduled.id, { target_database: 'write_only_restore' });
    assert.equal(asked.refused.code, 'key_required');
    assert.match(asked.refused.message, /encrypted to age1/);
    assert.match(asked.refused.message, /write-only/);
    const stranger = sh('age-keygen 2>/dev/null');
    const wrong = await restore(scheduled.id, { target_database: 'write_only_restore', identity: stranger });
    assert.equal(wrong.refused.code, 'key_required');
    const strangerKey = /public key: (age1\w+)/.exec(stranger)![1]!;
    assert.ok(wrong.refused.message.includes(`${keys.recovery_recipient.slice(0, 12)}…`), wrong.refused.message);
    assert.ok(wrong.refused.message.includes(`${strangerKey.slice(0, 12)}…`), 'it names the key given');
    assert.ok(!wrong.refused.message.includes('AGE-SECRET'), 'never the identity itself');
    const exists = await pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_database WHERE datname = 'write_only_restore'`);
    assert.equal(exists[0]!.n, 0, 'nothing was created');
  });

  it('with the recovery identity the restore completes, and the identity is in no log, row, temp file or process argument', async () => {
    const started = await app.http('POST', `/api/backups/${scheduled.id}/restore`, {
      target_database: 'write_only_restore',
      identity: readFileSync(keyFile, 'utf8'),
    });
    assert.equal(started.status, 202, started.text);
    const id = started.body.execution_id;
    const seen: string[] = [];
    // While it runs: every process's arguments, and every file of the data folder (its temp folder included).
    for (let i = 0; i < 200; i++) {
      const r = await app.rpc('executions.get', { id });
      if (!['queued', 'running'].includes(r.body.data.status)) break;
      if (sh('ps -eo args').includes(keys.recovery_identity)) seen.push('a process argument');
      seen.push(...holding(app.dataDir, keys.recovery_identity));
      await new Promise((res) => setTimeout(res, 50));
    }
    const done = await waitForExecution(app, id);
    assert.equal(done.status, 'completed', done.error_message);
    assert.deepEqual(await orders('write_only_restore'), await orders('shop'));
    await app.core.db.query('CHECKPOINT');
    seen.push(...holding(app.dataDir, keys.recovery_identity));
    assert.deepEqual(seen, []);
    const rows = (await app.core.db.query(`SELECT count(*)::int AS n FROM backup_executions WHERE metadata::text LIKE '%AGE-SECRET%'`)) as { n: number }[];
    assert.equal(rows[0]!.n, 0);
  });

  it('a restore test with the recovery identity completes; checksums need no key', async () => {
    const test = await app.http('POST', `/api/backups/${scheduled.id}/verify`, { method: 'restore-test', identity: keys.recovery_identity });
    assert.equal(test.status, 202, test.text);
    const done = await waitForExecution(app, test.body.execution_id);
    assert.equal(done.status, 'completed', done.error_message);
    const noKey = await app.http('POST', `/api/backups/${scheduled.id}/verify`, { method: 'restore-test' });
    assert.equal(noKey.body.error.code, 'key_required');
  });

  it('"Check a recovery key" says whether it opens the latest backups', async () => {
    const good = await call('encryption.checkRecovery', { identity: keys.recovery_identity });
    assert.equal(good.is_recovery_key, true);
    assert.ok(good.backups.length > 0);
    assert.ok(
      good.backups.every((b: Json) => b.opens),
      JSON.stringify(good.backups),
    );
    const bad = await call('encryption.checkRecovery', { identity: sh('age-keygen 2>/dev/null') });
    assert.equal(bad.is_recovery_key, false);
    assert.ok(bad.backups.every((b: Json) => !b.opens));
  });
});

describe('a lost machine', () => {
  it('a fresh install imports the kit with the recovery identity, imports from S3 and restores the same data', async () => {
    const kit = await call('config.export', { passphrase: 'correct horse battery staple' });
    assert.equal(kit.passphrase, true);
    const fresh = await startApp();
    try {
      const noPass = await fresh.rpc('config.import', { kit: kit.content, identity: keys.recovery_identity });
      assert.equal(noPass.body.error.code, 'validation_error');
      const wrongKey = await fresh.rpc('config.import', {
        kit: kit.content,
        identity: sh('age-keygen 2>/dev/null'),
        passphrase: 'correct horse battery staple',
      });
      assert.equal(wrongKey.body.error.code, 'key_required');
      const imported = await fresh.rpc('config.import', { kit: kit.content, identity: keys.recovery_identity, passphrase: 'correct horse battery staple' });
      assert.ok(imported.body.ok, imported.text);
      assert.equal(imported.body.data.storages, 3);
      assert.equal(imported.body.data.encryption, true);
      const state = (await fresh.rpc('encryption.get')).body.data;
      assert.equal(state.write_only, true);
      assert.equal(state.recovery_recipient, keys.recovery_recipient);
      const fromS3 = await fresh.rpc('storages.import', { id: bucket.id });
      assert.ok(fromS3.body.ok, fromS3.text);
      assert.ok(fromS3.body.data.added >= 1, fromS3.text);
      const backups = (await fresh.http('GET', `/api/backups/datasources/${shop.id}`)).body.backups;
      const encrypted = backups.find((b: Json) => b.metadata.encryption);
      assert.ok(encrypted, 'the imported backup says it is encrypted');
      const r = await fresh.http('POST', `/api/backups/${encrypted.id}/restore`, { target_database: 'lost_machine', identity: keys.recovery_identity });
      assert.equal(r.status, 202, r.text);
      const done = await waitForExecution(fresh, r.body.execution_id);
      assert.equal(done.status, 'completed', done.error_message);
      assert.deepEqual(await orders('lost_machine'), await orders('shop'));
      const again = await fresh.rpc('config.import', { kit: kit.content, identity: keys.recovery_identity, passphrase: 'correct horse battery staple' });
      assert.equal(again.body.error.code, 'conflict', 'a kit goes into a fresh install only');
    } finally {
      await fresh.stop();
    }
  });
});
