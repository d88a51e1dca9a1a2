// The harness itself: every server it starts must take a real round trip and
// leave nothing behind once stopped.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { Client, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { freePort, removeTempDir, startMariadb, startPostgres, startS3, startSshd, tempDir, type SshServer } from '../harness/index.js';

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await work();
  console.log(`${label}: ${Date.now() - started} ms`);
  return result;
}

function portIsClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('test harness', () => {
  test('freePort gives a bindable loopback port and tempDir is removed on request', async () => {
    const port = await freePort();
    assert.ok(port > 1024 && port < 65536, `port ${port}`);
    assert.equal(await portIsClosed(port), true);

    const dir = await tempDir('dg-harness-selftest-');
    await writeFile(join(dir, 'file'), 'x');
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    await removeTempDir(dir);
    assert.equal(existsSync(dir), false);
  });

  test('PostgreSQL: password login over TCP, round trip, clean stop', async () => {
    const server = await timed('postgres start', startPostgres);
    try {
      assert.match(server.version, /^\d+\.\d+$/);
      assert.equal(server.version.split('.')[0], server.binDir.split('/').at(-2));
      await server.createDatabase('dg_round_trip');
      await server.query('CREATE TABLE item (id int PRIMARY KEY, name text)', 'dg_round_trip');
      await server.query('INSERT INTO item VALUES ($1, $2), ($3, $4)', 'dg_round_trip', [1, 'één', 2, 'two']);

      // Through the connection string, as the app would be configured.
      const client = new pg.Client({ connectionString: server.url('dg_round_trip') });
      await client.connect();
      const { rows } = await client.query<{ id: number; name: string }>('SELECT id, name FROM item ORDER BY id');
      await client.end();
      assert.deepEqual(rows, [
        { id: 1, name: 'één' },
        { id: 2, name: 'two' },
      ]);

      const wrong = new pg.Client({ host: server.host, port: server.port, user: 'dg', password: 'wrong', database: 'postgres' });
      await assert.rejects(wrong.connect(), /password authentication failed/);
    } finally {
      await timed('postgres stop', server.stop);
    }
    assert.equal(existsSync(server.dir), false);
    assert.equal(await portIsClosed(server.port), true);
  });

  test('MariaDB: password login over TCP, round trip, clean stop', async () => {
    const server = await timed('mariadb start', startMariadb);
    try {
      assert.match(server.version, /^\d+\.\d+\.\d+$/);
      await server.createDatabase('dg_round_trip');
      await server.query('CREATE TABLE item (id int PRIMARY KEY, name varchar(20)) CHARACTER SET utf8mb4', 'dg_round_trip');
      await server.query('INSERT INTO item VALUES (?, ?), (?, ?)', 'dg_round_trip', [1, 'één', 2, 'two']);

      // Both 'localhost' and '127.0.0.1' must reach the dg account.
      for (const host of ['127.0.0.1', 'localhost']) {
        const connection = await mysql.createConnection({
          host,
          port: server.port,
          user: server.user,
          password: server.password,
          database: 'dg_round_trip',
        });
        const [rows] = await connection.query('SELECT id, name FROM item ORDER BY id');
        await connection.end();
        assert.deepEqual(
          (rows as { id: number; name: string }[]).map((row) => ({ ...row })),
          [
            { id: 1, name: 'één' },
            { id: 2, name: 'two' },
          ],
        );
      }
      const [grant] = await server.query<Record<string, string>>('SHOW GRANTS');
      assert.match(Object.values(grant ?? {})[0] ?? '', /ALL PRIVILEGES ON \*\.\* TO .* WITH GRANT OPTION/);

      await assert.rejects(mysql.createConnection({ host: server.host, port: server.port, user: 'dg', password: 'wrong' }), /Access denied/);
    } finally {
      await timed('mariadb stop', server.stop);
    }
    assert.equal(existsSync(server.dir), false);
    assert.equal(await portIsClosed(server.port), true);
  });

  test('sshd: SFTP write and read with the key and with the password, clean stop', async () => {
    const server = await timed('sshd start', startSshd);
    try {
      assert.match(server.hostKeyFingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
      const content = Buffer.from(`backup bytes ${Date.now()}\n`);

      const byKey = await sftpSession(server, { privateKey: server.privateKey });
      assert.equal(byKey.presentedFingerprint, server.hostKeyFingerprint);
      await sftpWrite(byKey.sftp, `${server.remoteDir}/by-key.bin`, content);
      assert.deepEqual(await sftpRead(byKey.sftp, `${server.remoteDir}/by-key.bin`), content);
      byKey.client.end();

      const byPassword = await sftpSession(server, { password: server.password });
      await sftpWrite(byPassword.sftp, `${server.remoteDir}/by-password.bin`, content);
      // Each login sees what the other wrote: the same real folder.
      assert.deepEqual(await sftpRead(byPassword.sftp, `${server.remoteDir}/by-key.bin`), content);
      byPassword.client.end();

      const written = statSync(join(server.remoteDir, 'by-password.bin'));
      assert.equal(written.size, content.length);
      assert.notEqual(written.uid, 0, 'files are written as the SSH user, not root');

      await assert.rejects(sftpSession(server, { password: 'wrong' }), /authentication methods failed/);
    } finally {
      await timed('sshd stop', server.stop);
    }
    assert.equal(existsSync(server.dir), false);
    assert.equal(await portIsClosed(server.port), true);
  });

  test('S3: put, get, multipart upload, list and delete through the AWS SDK, clean stop', async () => {
    const server = await timed('s3 start', startS3);
    const s3 = new S3Client(server.clientConfig);
    try {
      const Bucket = 'dg-harness-bucket';
      await server.createBucket(Bucket);

      await s3.send(new PutObjectCommand({ Bucket, Key: 'small.txt', Body: 'hello s3' }));
      const small = await s3.send(new GetObjectCommand({ Bucket, Key: 'small.txt' }));
      assert.equal(await small.Body?.transformToString(), 'hello s3');

      // A stream body of known length is what corrupts objects under the SDK's
      // default checksum mode; clientConfig must keep it byte-exact.
      const streamed = Buffer.from('streamed body');
      await s3.send(new PutObjectCommand({ Bucket, Key: 'streamed.txt', Body: Readable.from([streamed]), ContentLength: streamed.length }));
      const streamedBack = await s3.send(new GetObjectCommand({ Bucket, Key: 'streamed.txt' }));
      assert.deepEqual(Buffer.from((await streamedBack.Body?.transformToByteArray()) ?? []), streamed);

      const big = Buffer.alloc(11 * 1024 * 1024);
      for (let i = 0; i < big.length; i += 4096) big.writeUInt32BE(i, i);
      let parts = 0;
      const upload = new Upload({
        client: s3,
        params: { Bucket, Key: 'big.bin', Body: Readable.from([big.subarray(0, 7e6), big.subarray(7e6)]) },
        partSize: 5 * 1024 * 1024,
        queueSize: 2,
      });
      upload.on('httpUploadProgress', () => parts++);
      await upload.done();
      assert.ok(parts >= 3, `multipart upload in ${parts} parts`);
      const bigBack = await s3.send(new GetObjectCommand({ Bucket, Key: 'big.bin' }));
      const bigBytes = Buffer.from((await bigBack.Body?.transformToByteArray()) ?? []);
      assert.equal(createHash('sha256').update(bigBytes).digest('hex'), createHash('sha256').update(big).digest('hex'));

      const listed = await s3.send(new ListObjectsV2Command({ Bucket }));
      assert.deepEqual(
        listed.Contents?.map((object) => [object.Key, object.Size]),
        [
          ['big.bin', big.length],
          ['small.txt', 8],
          ['streamed.txt', streamed.length],
        ],
      );
      await s3.send(new DeleteObjectCommand({ Bucket, Key: 'small.txt' }));
      const afterDelete = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'small' }));
      assert.equal(afterDelete.KeyCount, 0);
    } finally {
      s3.destroy();
      await timed('s3 stop', server.stop);
    }
    assert.equal(existsSync(server.dir), false);
    const port = Number(new URL(server.endpoint).port);
    assert.equal(await portIsClosed(port), true);
  });

  test('a server a test forgets to stop is ended, and its folder removed, when the process exits', async () => {
    const harness = fileURLToPath(new URL('../harness/index.ts', import.meta.url));
    const script = `
      import { startSshd } from ${JSON.stringify(harness)};
      const server = await startSshd();
      console.log(JSON.stringify({ dir: server.dir, port: server.port }));
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    assert.equal(code, 0);
    const { dir, port } = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { dir: string; port: number };
    assert.ok(dir.startsWith('/tmp/dg-harness-sshd-'), dir);
    assert.equal(existsSync(dir), false);
    // SIGKILL lands asynchronously; give the kernel a moment to close the socket.
    let closed = false;
    for (let i = 0; i < 30 && !closed; i++) {
      closed = await portIsClosed(port);
      if (!closed) await sleep(100);
    }
    assert.equal(closed, true, `sshd still listening on ${port}`);
  });
});

interface SftpSession {
  client: Client;
  sftp: SFTPWrapper;
  presentedFingerprint: string;
}

function sftpSession(server: SshServer, auth: Pick<ConnectConfig, 'password' | 'privateKey'>): Promise<SftpSession> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let presentedFingerprint = '';
    client
      .once('ready', () => {
        client.sftp((error, sftp) => {
          if (error) {
            client.end();
            reject(error);
          } else resolve({ client, sftp, presentedFingerprint });
        });
      })
      .once('error', reject)
      .connect({
        host: server.host,
        port: server.port,
        username: server.username,
        ...auth,
        readyTimeout: 10_000,
        hostVerifier: (key: Buffer) => {
          // Same form as `ssh-keygen -lf`: unpadded base64 of the key blob's SHA-256.
          presentedFingerprint = `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
          return true;
        },
      });
  });
}

function sftpWrite(sftp: SFTPWrapper, path: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => sftp.writeFile(path, data, (error) => (error ? reject(error) : resolve())));
}

function sftpRead(sftp: SFTPWrapper, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => sftp.readFile(path, (error, data) => (error ? reject(error) : resolve(data))));
}
