// A restore reads the backup as it is decrypted and decompressed (restore/download.ts proveCopy): what it leaves on
// disk meanwhile is the stored bytes only. No decrypted byte and no key in the private folder, which is 0700; a copy
// that fails its checksums leaves nothing there; a part changed on the storage after the proof fails the read.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, describe, it } from 'node:test';
import { createCompressor } from '../../electron/core/backup/compress.js';
import { createAgeEncrypter, newKeyPair } from '../../electron/core/kernel/age.js';
import { proveCopy } from '../../electron/core/restore/download.js';
import { LocalStorage } from '../../electron/core/storage/local.js';

const root = mkdtempSync('/tmp/dg-restore-stream-');
after(() => rmSync(root, { recursive: true, force: true }));
const signal = new AbortController().signal;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const MARKER = 'MARKER-do-not-stage-7f3c';
const plain = Buffer.from(Array.from({ length: 120_000 }, (_, i) => `${i};${MARKER};customer ${i % 97}\n`).join(''));

async function encrypted(recipient: string): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from([plain]),
    createCompressor('zstd'),
    await createAgeEncrypter([recipient]),
    new Writable({ write: (c, _e, cb) => (out.push(c), cb()) }),
  );
  return Buffer.concat(out);
}

/** `stored` in parts on a folder storage, seen as a remote one (S3, SFTP): the parts are downloaded as they are hashed. */
function remoteCopy(stored: Buffer, name: string) {
  mkdirSync(path.join(root, 'storage', name), { recursive: true });
  const parts = [];
  for (let at = 0, n = 1; at < stored.length; at += 16 * 1024, n++) {
    const file_path = `${name}/backup.sql.zst.age.part-${String(n).padStart(3, '0')}`;
    writeFileSync(path.join(root, 'storage', file_path), stored.subarray(at, at + 16 * 1024));
    parts.push({ file_path, checksum: sha(stored.subarray(at, at + 16 * 1024)) });
  }
  const storage = Object.assign(Object.create(new LocalStorage({ path: path.join(root, 'storage') })) as LocalStorage, { type: 's3' });
  return { storage, parts, expectedSha256: sha(stored) };
}

/** A private folder as fetch makes it (mkdtemp: 0700). */
const privateDir = () => mkdtempSync(path.join(root, 'restore-'));

describe('what a streamed restore leaves on disk', () => {
  it('an encrypted remote copy: the private folder holds the encrypted bytes only, never the marker nor the key', async () => {
    const key = await newKeyPair();
    const stored = await encrypted(key.recipient);
    const { storage, parts, expectedSha256 } = remoteCopy(stored, 'enc');
    assert.ok(parts.length >= 2);
    const dir = privateDir();
    const source = await proveCopy(storage, parts, { expectedSha256, compression: 'zstd', identities: [key.identity], dir, signal });
    const read: Buffer[] = [];
    await pipeline(source.open(), new Writable({ write: (c, _e, cb) => (read.push(c), cb()) }));
    assert.equal(sha(Buffer.concat(read)), sha(plain));
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.deepEqual(readdirSync(dir), ['stored']);
    assert.equal(statSync(path.join(dir, 'stored')).mode & 0o777, 0o600);
    const onDisk = readFileSync(path.join(dir, 'stored'));
    assert.equal(onDisk.includes(MARKER), false, 'no decrypted byte is staged');
    assert.equal(onDisk.includes(key.identity), false, 'the key is in no temp file');
  });

  it('a part that fails its checksum leaves the private folder empty, and the error names the part', async () => {
    const key = await newKeyPair();
    const stored = Buffer.from(await encrypted(key.recipient));
    const { storage, parts, expectedSha256 } = remoteCopy(stored, 'flipped');
    const file = path.join(root, 'storage', parts[1]!.file_path);
    const bytes = readFileSync(file);
    bytes.writeUInt8(bytes.readUInt8(100) ^ 0xff, 100);
    writeFileSync(file, bytes);
    const dir = privateDir();
    await assert.rejects(proveCopy(storage, parts, { expectedSha256, compression: 'zstd', identities: [key.identity], dir, signal }), /part-002 is damaged/);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('a wrong key is refused at the proof, before any restore could read a byte, and nothing is left', async () => {
    const key = await newKeyPair();
    const other = await newKeyPair();
    const { storage, parts, expectedSha256 } = remoteCopy(await encrypted(key.recipient), 'wrong-key');
    const dir = privateDir();
    await assert.rejects(
      proveCopy(storage, parts, { expectedSha256, compression: 'zstd', identities: [other.identity], dir, signal }),
      (e: Error & { reason?: string }) => {
        assert.equal(e.reason, 'key');
        return true;
      },
    );
    assert.deepEqual(readdirSync(dir), []);
  });
});
