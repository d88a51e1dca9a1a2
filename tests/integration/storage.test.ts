// The storages against real places: a temp folder, OpenSSH's sshd (SFTP) and an
// S3-compatible server, all on this machine.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Client, type SFTPWrapper } from 'ssh2';
import { AppError } from '../../shared/errors.js';
import type { StorageType } from '../../shared/schemas/enums.js';
import type { StorageConfig } from '../../shared/schemas/storage.js';
import { openStorage } from '../../electron/core/storage/index.js';
import type { Storage } from '../../electron/core/storage/types.js';
import { copyObject } from '../../electron/core/storage/s3/copy.js';
import { freePort, removeTempDir, startS3, startSshd, tempDir, type S3Server, type SshServer } from '../harness/index.js';

const MiB = 1024 * 1024;

/** Random bytes in 64 KiB chunks, hashed as they are made. */
function randomBody(bytes: number): { body: Readable; sha256: string } {
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  for (let left = bytes; left > 0; left -= 64 * 1024) {
    const chunk = randomBytes(Math.min(64 * 1024, left));
    hash.update(chunk);
    chunks.push(chunk);
  }
  return { body: Readable.from(chunks), sha256: hash.digest('hex') };
}

/** A body that never ends, made on demand (backpressure decides how fast). */
function endlessBody(): Readable {
  return new Readable({
    read() {
      this.push(randomBytes(64 * 1024));
    },
  });
}

async function digest(stream: Readable): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

async function rejectsWith(promise: Promise<unknown>, code: AppError['code'], pattern?: RegExp): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (pattern) assert.match(error.message, pattern);
    return error;
  }
  assert.fail(`expected a ${code} error`);
}

/** Every file below `dir` on this machine, as paths relative to it. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

/**
 * A plain HTTP relay in front of the S3 server that writes down each request line, to see which
 * S3 operations a put really made (s3rver gives a multipart object the ETag of a single PUT).
 */
async function recordingRelay(target: string): Promise<{ endpoint: string; requests: string[]; close(): Promise<void> }> {
  const { hostname, port } = new URL(target);
  const requests: string[] = [];
  const server = createServer((incoming, answer) => {
    requests.push(`${incoming.method} ${incoming.url}`);
    const upstream = request({ host: hostname, port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (reply) => {
      answer.writeHead(reply.statusCode ?? 502, reply.headers);
      reply.pipe(answer);
    });
    upstream.on('error', () => answer.destroy());
    answer.on('close', () => upstream.destroy());
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The S3 operation behind a recorded request line. */
function operation(line: string): string {
  const [method, url] = line.split(' ');
  const query = new URL(url ?? '/', 'http://relay').searchParams;
  if (query.has('uploads')) return 'CreateMultipartUpload';
  if (query.has('partNumber')) return `UploadPart ${query.get('partNumber')}`;
  if (query.has('uploadId')) return method === 'DELETE' ? 'AbortMultipartUpload' : 'CompleteMultipartUpload';
  if (query.has('list-type')) return 'ListObjectsV2';
  return `${method} object`;
}

interface Subject {
  storage: Storage;
  /** For folder-based storages: where the storage root is on this machine, to look for leftovers. */
  rootOnDisk?: string;
}

/** What every storage must do, whatever it is. */
function behavesAsAStorage(subject: () => Subject, abortAfterBytes = 2 * MiB): void {
  test('a multi-MB stream goes in and comes back byte for byte', async () => {
    const { storage } = subject();
    const key = 'job-1/2024-01-02_030405/backup.dump.gz.part-001';
    const size = 5 * MiB + 123;
    const { body, sha256 } = randomBody(size);
    let progress = 0;
    assert.deepEqual(await storage.put(key, body, { onProgress: (b) => (progress = b) }), { size });
    assert.equal(progress, size);
    assert.deepEqual(await digest(await storage.get(key)), { sha256, bytes: size });
    const stat = await storage.stat(key);
    assert.equal(stat?.size, size);
    assert.ok(Math.abs(Date.parse(stat.modified) - Date.now()) < 120_000, stat.modified);
  });

  test('a range read answers exactly the bytes asked for, and no more (taking one file out of a backup)', async () => {
    const { storage } = subject();
    const key = 'job-1/2024-01-02_030405/backup.tar.zst';
    const data = randomBytes(3 * MiB + 77);
    await storage.put(key, Readable.from([data]));
    for (const [start, end] of [
      [0, 10],
      [65_530, 65_560],
      [MiB - 3, 2 * MiB + 5],
      [data.length - 7, data.length],
    ] as const) {
      const chunks: Buffer[] = [];
      for await (const c of await storage.get(key, { range: { start, end } })) chunks.push(c as Buffer);
      assert.ok(Buffer.concat(chunks).equals(data.subarray(start, end)), `bytes ${start}-${end}`);
    }
    await storage.delete(key);
  });

  test('list is recursive with prefix semantics; stat and delete', async () => {
    const { storage, rootOnDisk } = subject();
    const keys = ['t-list/a/1/x', 't-list/a/1/y', 't-list/a/10/q', 't-list/a/2/z', 't-list/b/w'];
    for (const key of keys) await storage.put(key, Readable.from([Buffer.from(key)]));
    assert.deepEqual(
      (await storage.list('t-list/')).map((o) => o.key),
      keys,
    );
    assert.deepEqual(
      (await storage.list('t-list/a/1/')).map((o) => o.key),
      ['t-list/a/1/x', 't-list/a/1/y'],
    );
    assert.deepEqual(
      (await storage.list('t-list/a/1')).map((o) => o.key),
      ['t-list/a/1/x', 't-list/a/1/y', 't-list/a/10/q'],
    );
    assert.deepEqual(await storage.list('t-list/nothing/'), []);
    const [first] = await storage.list('t-list/b/');
    assert.equal(first?.size, 't-list/b/w'.length);
    assert.equal(await storage.stat('t-list/a/nope'), null);
    // A folder is not an object.
    assert.equal(await storage.stat('t-list/a'), null);
    await rejectsWith(storage.get('t-list/a/nope'), 'not_found');

    await storage.delete('t-list/a/1/x');
    assert.equal(await storage.stat('t-list/a/1/x'), null);
    await storage.delete('t-list/a/1/x');
    for (const key of keys.slice(1)) await storage.delete(key);
    assert.deepEqual(await storage.list('t-list/'), []);
    // Emptied folders go too.
    if (rootOnDisk) assert.equal(existsSync(join(rootOnDisk, 't-list')), false);
  });

  test('put never overwrites an existing key', async () => {
    const { storage, rootOnDisk } = subject();
    const key = 't-conflict/backup.sql.gz';
    await storage.put(key, Readable.from([Buffer.from('first')]));
    await rejectsWith(storage.put(key, Readable.from([Buffer.from('second, longer')])), 'conflict', /already exists/);
    const back = await digest(await storage.get(key));
    assert.equal(back.sha256, createHash('sha256').update('first').digest('hex'));
    if (rootOnDisk) assert.deepEqual(filesUnder(join(rootOnDisk, 't-conflict')), ['backup.sql.gz']);
  });

  test('rename moves an object: same bytes and size, the old key gone', async () => {
    const { storage, rootOnDisk } = subject();
    const from = 't-rename/run/backup.dump.zst.part-001';
    const to = 't-rename/run/backup.dump.zst';
    const size = 3 * MiB + 7;
    const { body, sha256 } = randomBody(size);
    await storage.put(from, body);
    await storage.rename(from, to);
    assert.equal(await storage.stat(from), null);
    assert.equal((await storage.stat(to))?.size, size);
    assert.deepEqual(await digest(await storage.get(to)), { sha256, bytes: size });
    await rejectsWith(storage.get(from), 'not_found');
    assert.deepEqual(
      (await storage.list('t-rename/')).map((o) => o.key),
      [to],
    );
    if (rootOnDisk) assert.deepEqual(filesUnder(join(rootOnDisk, 't-rename')), ['run/backup.dump.zst']);

    // Into a folder that does not exist yet; the emptied one goes, as after a delete.
    const moved = 't-rename/other/deeper/backup.dump.zst';
    await storage.rename(to, moved);
    assert.deepEqual(
      (await storage.list('t-rename/')).map((o) => o.key),
      [moved],
    );
    assert.deepEqual(await digest(await storage.get(moved)), { sha256, bytes: size });
    if (rootOnDisk) assert.equal(existsSync(join(rootOnDisk, 't-rename', 'run')), false);
    await storage.delete(moved);
  });

  test('rename never overwrites: both objects stay as they were', async () => {
    const { storage, rootOnDisk } = subject();
    const a = 't-rename-conflict/backup.dump.zst.part-001';
    const b = 't-rename-conflict/backup.dump.zst';
    await storage.put(a, Readable.from([Buffer.from('the new part')]));
    await storage.put(b, Readable.from([Buffer.from('already here')]));
    await rejectsWith(storage.rename(a, b), 'conflict', /already exists/);
    assert.equal((await digest(await storage.get(a))).sha256, createHash('sha256').update('the new part').digest('hex'));
    assert.equal((await digest(await storage.get(b))).sha256, createHash('sha256').update('already here').digest('hex'));
    assert.deepEqual(
      (await storage.list('t-rename-conflict/')).map((o) => o.key),
      [b, a],
    );
    if (rootOnDisk) assert.deepEqual(filesUnder(join(rootOnDisk, 't-rename-conflict')).sort(), ['backup.dump.zst', 'backup.dump.zst.part-001']);
    // Onto itself is a conflict too, and harmless.
    await rejectsWith(storage.rename(a, a), 'conflict');
    assert.equal((await storage.stat(a))?.size, 'the new part'.length);
    await storage.delete(a);
    await storage.delete(b);
  });

  test('rename of a missing key (or of a folder) is not_found and creates nothing', async () => {
    const { storage, rootOnDisk } = subject();
    await rejectsWith(storage.rename('t-rename-missing/nope', 't-rename-missing/there'), 'not_found', /nope/);
    assert.equal(await storage.stat('t-rename-missing/there'), null);
    await storage.put('t-rename-missing/dir/file', Readable.from([Buffer.from('x')]));
    await rejectsWith(storage.rename('t-rename-missing/dir', 't-rename-missing/moved'), 'not_found');
    assert.deepEqual(
      (await storage.list('t-rename-missing/')).map((o) => o.key),
      ['t-rename-missing/dir/file'],
    );
    if (rootOnDisk) assert.deepEqual(filesUnder(join(rootOnDisk, 't-rename-missing')), ['dir/file']);
    await storage.delete('t-rename-missing/dir/file');
  });

  test('an abort in the middle of a put leaves nothing behind', async () => {
    const { storage, rootOnDisk } = subject();
    const controller = new AbortController();
    const key = 't-abort/backup.tar.zst.part-001';
    await assert.rejects(
      storage.put(key, endlessBody(), { signal: controller.signal, onProgress: (b) => b >= abortAfterBytes && controller.abort() }),
      (error: Error) => error.name === 'AbortError',
    );
    assert.equal(await storage.stat(key), null);
    assert.deepEqual(await storage.list('t-abort/'), []);
    if (rootOnDisk) assert.deepEqual(filesUnder(join(rootOnDisk, 't-abort')), []);
  });

  test('keys that could leave the storage root are refused', async () => {
    const { storage } = subject();
    for (const key of ['../escape', 'a/../../escape', '/etc/passwd', 'a//b', './a', 'a\\b', '']) {
      await rejectsWith(storage.put(key, Readable.from([Buffer.from('x')])), 'validation_error');
      await rejectsWith(storage.get(key), 'validation_error');
      await rejectsWith(storage.rename(key, 'fine'), 'validation_error');
      await rejectsWith(storage.rename('fine', key), 'validation_error');
    }
    await rejectsWith(storage.list('../'), 'validation_error');
  });

  test('test() writes, reads back and deletes a probe', async () => {
    const { storage, rootOnDisk } = subject();
    const result = await storage.test();
    assert.equal(result.ok, true, result.message);
    assert.ok(result.latency_ms !== null && result.latency_ms >= 0);
    assert.deepEqual(
      (await storage.list('_system/')).map((o) => o.key),
      [],
    );
    if (rootOnDisk) assert.deepEqual(filesUnder(join(rootOnDisk, '_system')), []);
  });
}

describe('local folder storage', () => {
  let dir: string;
  let storage: Storage;
  before(async () => {
    dir = await tempDir('dg-storage-local-');
    storage = openStorage('local', { path: join(dir, 'backups') });
  });
  after(async () => {
    await storage.close();
    await removeTempDir(dir);
  });

  behavesAsAStorage(() => ({ storage, rootOnDisk: join(dir, 'backups') }));

  test('test() reports free space', async () => {
    const result = await storage.test();
    assert.ok(result.available_space_gb !== null && result.available_space_gb > 0, result.message);
  });

  test('max_size_gb caps the free space reported', async () => {
    const capped = openStorage('local', { path: join(dir, 'capped'), max_size_gb: 0.001 });
    await capped.put('x/one-kib', Readable.from([randomBytes(1024)]));
    assert.equal(await capped.freeSpaceBytes(), Math.floor(0.001 * 1024 ** 3) - 1024);
  });

  test('a folder whose parent does not exist is not created (a drive may be unmounted)', async () => {
    const path = join(dir, 'not-mounted', 'backups');
    const result = await openStorage('local', { path }).test();
    assert.equal(result.ok, false);
    assert.match(result.message, /does not exist/);
    assert.ok(result.message.includes(path), result.message);
    assert.equal(existsSync(join(dir, 'not-mounted')), false);
  });

  test('a folder it may not write to fails the test with the reason', async (t) => {
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    // root ignores permission bits, but not the immutable attribute.
    const asRoot = process.getuid?.() === 0;
    try {
      if (asRoot) execFileSync('chattr', ['+i', locked], { stdio: 'ignore' });
      else execFileSync('chmod', ['555', locked]);
    } catch {
      t.skip('this filesystem cannot make a folder read-only');
      return;
    }
    try {
      const result = await openStorage('local', { path: locked }).test();
      assert.equal(result.ok, false);
      assert.match(result.message, /Permission denied/);
      assert.deepEqual(readdirSync(locked), []);
    } finally {
      execFileSync(asRoot ? 'chattr' : 'chmod', asRoot ? ['-i', locked] : ['755', locked]);
    }
  });
});

describe('SSH (SFTP) storage', () => {
  let ssh: SshServer;
  let storage: Storage;
  const config = (over: Partial<StorageConfig<'ssh'>> = {}): StorageConfig<'ssh'> => ({
    host: ssh.host,
    port: ssh.port,
    username: ssh.username,
    private_key: ssh.privateKey,
    remote_path: ssh.remoteDir,
    host_key_fingerprint: ssh.hostKeyFingerprint,
    ...over,
  });
  const testWith = async (over: Partial<StorageConfig<'ssh'>>, onHostKey?: (fp: string) => void) => {
    const s = openStorage('ssh', config(over), onHostKey ? { onHostKey } : {});
    try {
      return await s.test();
    } finally {
      await s.close();
    }
  };

  before(async () => {
    ssh = await startSshd();
    storage = openStorage('ssh', config());
  });
  after(async () => {
    await storage?.close();
    await ssh?.stop();
  });

  behavesAsAStorage(() => ({ storage, rootOnDisk: ssh.remoteDir }));

  test('by password, a first-seen host key is reported for the caller to remember', async () => {
    const seen: string[] = [];
    const result = await testWith({ private_key: undefined, password: ssh.password, host_key_fingerprint: undefined }, (fp) => void seen.push(fp));
    assert.equal(result.ok, true, result.message);
    assert.equal(result.host_key_fingerprint, ssh.hostKeyFingerprint);
    assert.deepEqual(seen, [ssh.hostKeyFingerprint]);
    assert.ok(result.available_space_gb !== null && result.available_space_gb > 0, 'statvfs@openssh.com gives free space');
  });

  test('a known host key is not reported again', async () => {
    const seen: string[] = [];
    const result = await testWith({}, (fp) => void seen.push(fp));
    assert.equal(result.ok, true, result.message);
    assert.deepEqual(seen, []);
  });

  test('the connection opens again after close()', async () => {
    await storage.put('t-reopen/a', Readable.from([Buffer.from('a')]));
    await storage.close();
    assert.equal((await storage.stat('t-reopen/a'))?.size, 1);
    await storage.delete('t-reopen/a');
  });

  test('a changed host key is refused', async () => {
    const stale = `SHA256:${randomBytes(32).toString('base64').replace(/=+$/, '')}`;
    const result = await testWith({ host_key_fingerprint: stale });
    assert.equal(result.ok, false);
    assert.match(result.message, /host key changed/);
    assert.ok(result.message.includes(stale) && result.message.includes(ssh.hostKeyFingerprint), result.message);
    assert.equal(result.host_key_fingerprint, ssh.hostKeyFingerprint);
  });

  test('a wrong password names the authentication', async () => {
    const result = await testWith({ private_key: undefined, password: 'not-the-password' });
    assert.equal(result.ok, false);
    assert.match(result.message, /Authentication failed for 'dgtest'/);
  });

  test('a key the server does not know names the authentication', async () => {
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const result = await testWith({ private_key: privateKey });
    assert.equal(result.ok, false);
    assert.match(result.message, /Authentication failed/);
  });

  test('text that is not a private key is named as such', async () => {
    const result = await testWith({ private_key: 'not a key' });
    assert.equal(result.ok, false);
    assert.match(result.message, /private key could not be read/);
  });

  test('a closed port names the refused connection', async () => {
    const result = await testWith({ port: await freePort() });
    assert.equal(result.ok, false);
    assert.match(result.message, /Connection refused by 127\.0\.0\.1:\d+/);
  });

  test('a remote folder the user may not write to names the permission', async () => {
    // The server's own folder belongs to root; dgtest may only read it.
    const result = await testWith({ remote_path: join(ssh.dir, 'backups') });
    assert.equal(result.ok, false);
    assert.match(result.message, /Permission denied/);
  });

  test('OpenSSH itself refuses an SFTP rename onto an existing file, which rename relies on', async () => {
    await storage.put('t-sftp-rename/a', Readable.from([Buffer.from('a')]));
    await storage.put('t-sftp-rename/b', Readable.from([Buffer.from('b')]));
    const client = new Client();
    try {
      const sftp = await new Promise<SFTPWrapper>((resolve, reject) => {
        client.once('error', reject).once('ready', () => client.sftp((error, wrapper) => (error ? reject(error) : resolve(wrapper))));
        client.connect({ host: ssh.host, port: ssh.port, username: ssh.username, privateKey: ssh.privateKey });
      });
      const folder = join(ssh.remoteDir, 't-sftp-rename');
      const refused = await new Promise<Error | null | undefined>((resolve) => sftp.rename(join(folder, 'a'), join(folder, 'b'), resolve));
      // SSH_FX_FAILURE: OpenSSH's link() met the existing name.
      assert.equal((refused as (Error & { code?: number }) | null | undefined)?.code, 4, String(refused));
      assert.equal(readFileSync(join(folder, 'a'), 'utf8'), 'a');
      assert.equal(readFileSync(join(folder, 'b'), 'utf8'), 'b');
    } finally {
      client.end();
      await storage.delete('t-sftp-rename/a');
      await storage.delete('t-sftp-rename/b');
    }
  });

  test('a remote folder whose parent is missing is not created', async () => {
    const result = await testWith({ remote_path: join(ssh.remoteDir, 'not-mounted', 'backups') });
    assert.equal(result.ok, false);
    assert.match(result.message, /does not exist/);
    assert.equal(existsSync(join(ssh.remoteDir, 'not-mounted')), false);
  });
});

describe('S3-compatible storage', () => {
  let s3: S3Server;
  let raw: S3Client;
  let storage: Storage;
  const bucket = 'dg-storage';
  const config = (over: Partial<StorageConfig<'s3'>> = {}): StorageConfig<'s3'> => ({
    endpoint: s3.endpoint,
    bucket,
    region: s3.region,
    access_key_id: s3.accessKeyId,
    secret_access_key: s3.secretAccessKey,
    force_path_style: true,
    prefix: 'dataguardian/office',
    ...over,
  });
  const testWith = async (type: StorageType, config: unknown) => {
    const s = openStorage(type, config as StorageConfig);
    try {
      return await s.test();
    } finally {
      await s.close();
    }
  };

  before(async () => {
    s3 = await startS3();
    await s3.createBucket(bucket);
    raw = new S3Client(s3.clientConfig);
    storage = openStorage('s3', config());
  });
  after(async () => {
    await storage?.close();
    raw?.destroy();
    await s3?.stop();
  });

  // Past the first 8 MiB part, so the abort lands in a multipart upload.
  behavesAsAStorage(() => ({ storage }), 10 * MiB);

  test('objects live under the configured prefix', async () => {
    await storage.put('t-prefix/manifest.json', Readable.from([Buffer.from('{}')]));
    const listed = await raw.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'dataguardian/office/t-prefix/' }));
    assert.deepEqual(
      listed.Contents?.map((o) => o.Key),
      ['dataguardian/office/t-prefix/manifest.json'],
    );
  });

  test('a 20 MB body goes up in several parts and comes back intact', async () => {
    const relay = await recordingRelay(s3.endpoint);
    const relayed = openStorage('s3', config({ endpoint: relay.endpoint }));
    try {
      const key = 't-multipart/backup.dump.zst';
      const size = 20 * 1000 * 1000;
      const { body, sha256 } = randomBody(size);
      assert.deepEqual(await relayed.put(key, body), { size });
      // 8 MiB + 8 MiB + the rest; the parts may arrive in any order.
      assert.deepEqual(relay.requests.map(operation).sort(), [
        'CompleteMultipartUpload',
        'CreateMultipartUpload',
        'HEAD object',
        'ListObjectsV2',
        'UploadPart 1',
        'UploadPart 2',
        'UploadPart 3',
      ]);
      assert.deepEqual(await digest(await relayed.get(key)), { sha256, bytes: size });
    } finally {
      await relayed.close();
      await relay.close();
    }
  });

  test('rename copies on the server: no bytes come through this machine', async () => {
    const relay = await recordingRelay(s3.endpoint);
    const relayed = openStorage('s3', config({ endpoint: relay.endpoint }));
    try {
      const { body, sha256 } = randomBody(2 * MiB);
      await storage.put('t-rename-copy/backup.sql.gz.part-001', body);
      await relayed.rename('t-rename-copy/backup.sql.gz.part-001', 't-rename-copy/backup.sql.gz');
      // HEAD of the source and of the target, CopyObject, HEAD of the copy, DELETE of the source.
      assert.deepEqual(relay.requests.map(operation).sort(), ['DELETE object', 'HEAD object', 'HEAD object', 'HEAD object', 'PUT object']);
      assert.deepEqual(await digest(await storage.get('t-rename-copy/backup.sql.gz')), { sha256, bytes: 2 * MiB });
      assert.deepEqual(
        (await storage.list('t-rename-copy/')).map((o) => o.key),
        ['t-rename-copy/backup.sql.gz'],
      );
    } finally {
      await relayed.close();
      await relay.close();
    }
  });

  test('an object over the single-copy limit is copied in parts, or through this machine when the server cannot', async () => {
    const relay = await recordingRelay(s3.endpoint);
    const client = new S3Client({ ...s3.clientConfig, endpoint: relay.endpoint });
    try {
      const size = 12 * MiB + 5;
      const { body, sha256 } = randomBody(size);
      await storage.put('t-copy-large/a', body);
      const from = 'dataguardian/office/t-copy-large/a';
      const to = 'dataguardian/office/t-copy-large/b';
      await copyObject(client, { Bucket: bucket, from, to, size }, { singleCopyLimit: MiB, partBytes: 5 * MiB });
      const operations = relay.requests.map(operation);
      // s3rver has no UploadPartCopy: the attempt is aborted, then the object is streamed.
      assert.deepEqual(operations.slice(0, 2), ['CreateMultipartUpload', 'UploadPart 1']);
      assert.ok(operations.includes('AbortMultipartUpload'), operations.join(', '));
      assert.ok(operations.includes('GET object'), operations.join(', '));
      assert.ok(operations.includes('CompleteMultipartUpload'), operations.join(', '));
      assert.deepEqual(await digest(await storage.get('t-copy-large/b')), { sha256, bytes: size });
      assert.deepEqual(await digest(await storage.get('t-copy-large/a')), { sha256, bytes: size });
    } finally {
      client.destroy();
      await relay.close();
    }
  });

  test('an abort during a multipart upload aborts the upload before put returns', async () => {
    const relay = await recordingRelay(s3.endpoint);
    const relayed = openStorage('s3', config({ endpoint: relay.endpoint }));
    try {
      const controller = new AbortController();
      await assert.rejects(
        relayed.put('t-abort-multipart/backup.sql.gz', endlessBody(), { signal: controller.signal, onProgress: (b) => b >= 12 * MiB && controller.abort() }),
        (error: Error) => error.name === 'AbortError',
      );
      const operations = relay.requests.map(operation);
      assert.ok(operations.includes('CreateMultipartUpload'), operations.join(', '));
      assert.ok(operations.includes('AbortMultipartUpload'), operations.join(', '));
      assert.ok(!operations.includes('CompleteMultipartUpload'), operations.join(', '));
      assert.equal(await relayed.stat('t-abort-multipart/backup.sql.gz'), null);
    } finally {
      await relayed.close();
      await relay.close();
    }
  });

  // s3rver does not verify SigV4 signatures, so a wrong secret cannot be shown here; an unknown
  // key id takes the same path through the error mapping.
  test('an unknown access key names the credentials', async () => {
    const result = await testWith('s3', config({ access_key_id: 'NOBODY' }));
    assert.equal(result.ok, false);
    assert.match(result.message, /access key or secret was refused/);
  });

  test('a missing bucket is named', async () => {
    const result = await testWith('s3', config({ bucket: 'no-such-bucket' }));
    assert.equal(result.ok, false);
    assert.match(result.message, /Bucket 'no-such-bucket' does not exist/);
  });

  test('an endpoint nobody listens on is named', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const result = await testWith('s3', config({ endpoint }));
    assert.equal(result.ok, false);
    assert.ok(result.message.includes(endpoint), result.message);
    assert.match(result.message, /connection refused/);
  });

  test('MinIO: an endpoint without a scheme follows use_ssl', async () => {
    const result = await testWith('minio', {
      endpoint: new URL(s3.endpoint).host,
      use_ssl: false,
      bucket,
      access_key: s3.accessKeyId,
      secret_key: s3.secretAccessKey,
      region: 'us-east-1',
      prefix: '',
    });
    assert.equal(result.ok, true, result.message);
    assert.equal(result.available_space_gb, null);
  });

  test('Backblaze: works through its S3 endpoint, and asks for one when it has neither endpoint nor region', async () => {
    const b2 = { bucket_id: '', bucket_name: bucket, application_key_id: s3.accessKeyId, application_key: s3.secretAccessKey, prefix: 'b2' };
    const result = await testWith('backblaze', { ...b2, endpoint: s3.endpoint, region: 'us-east-1' });
    assert.equal(result.ok, true, result.message);
    assert.throws(
      () => openStorage('backblaze', b2 as StorageConfig),
      (error: AppError) => error.code === 'validation_error' && /endpoint/.test(error.message),
    );
  });
});
