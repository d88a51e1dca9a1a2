// proveCopy from a real folder storage and from a storage that is not a folder (its parts downloaded into the private
// folder): the parts' and the whole file's SHA-256 are checked before the source is handed out, and the source then
// decodes the proven bytes as they are read.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, describe, it } from 'node:test';
import type { Compression } from '../../shared/schemas/enums.js';
import { createCompressor, createDecompressor } from '../../electron/core/backup/compress.js';
import { proveCopy } from '../../electron/core/restore/download.js';
import { joinParts } from '../../electron/core/restore/join.js';
import { LocalStorage } from '../../electron/core/storage/local.js';

const MB = 1024 * 1024;
const dir = mkdtempSync('/tmp/dg-download-');
after(() => rmSync(dir, { recursive: true, force: true }));

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** ~21 MB, six frames of 4 MiB: text that compresses well, with random stretches that do not. */
const input = Buffer.concat(
  Array.from({ length: 84 }, (_, i) =>
    i % 5 === 0 ? randomBytes(256 * 1024) : Buffer.from(`row ${i} ${'order;customer;total\n'.repeat(13_000)}`.slice(0, 256 * 1024)),
  ),
);

async function compressed(kind: Compression): Promise<Buffer> {
  const out: Buffer[] = [];
  const pieces = Array.from({ length: Math.ceil(input.length / 65_000) }, (_, i) => input.subarray(i * 65_000, (i + 1) * 65_000));
  await pipeline(Readable.from(pieces), createCompressor(kind), new Writable({ write: (c, _e, cb) => (out.push(c), cb()) }));
  return Buffer.concat(out);
}

let copies = 0;
/** `stored` as parts of about `partBytes` in a fresh folder of a folder storage, with the checksums a manifest gives. */
function store(stored: Buffer, partBytes: number) {
  const folder = `job/copy-${++copies}`;
  mkdirSync(path.join(dir, 'storage', folder), { recursive: true });
  const parts = [];
  for (let at = 0, n = 1; at < stored.length; at += partBytes, n++) {
    const file_path = `${folder}/backup.dump.part-${String(n).padStart(3, '0')}`;
    const bytes = stored.subarray(at, at + partBytes);
    writeFileSync(path.join(dir, 'storage', file_path), bytes);
    parts.push({ file_path, checksum: sha(bytes) });
  }
  return { parts, expectedSha256: sha(stored), storage: new LocalStorage({ path: path.join(dir, 'storage') }) };
}

/** A fresh private folder for one proof. */
const privateDir = () => mkdtempSync(path.join(dir, 'private-'));
const signal = new AbortController().signal;
/** The same storage, seen as one that is not a folder (S3, SFTP): its parts are downloaded as they are hashed. */
const remote = (storage: LocalStorage) => Object.assign(Object.create(storage) as LocalStorage, { type: 's3' });

async function read(source: Awaited<ReturnType<typeof proveCopy>>): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(source.open(), new Writable({ write: (c, _e, cb) => (out.push(c), cb()) }));
  return Buffer.concat(out);
}

describe('proveCopy', () => {
  for (const kind of ['zstd', 'gzip', 'lz4', 'none'] as const) {
    it(`${kind}: several parts are checked, then decoded as the source is read (twice, and as a file)`, async () => {
      const { parts, expectedSha256, storage } = store(await compressed(kind), 3 * MB);
      assert.ok(parts.length >= 2, `${parts.length} parts`);
      let bytes = 0;
      const at = privateDir();
      const source = await proveCopy(storage, parts, { expectedSha256, compression: kind, dir: at, signal, onBytes: (n) => (bytes = n) });
      assert.deepEqual(readdirSync(at), [], 'a folder storage is read where it is: nothing staged');
      assert.equal(sha(await read(source)), sha(input));
      assert.equal(sha(await read(source)), sha(input));
      assert.equal(sha(readFileSync(await source.file())), sha(input));
      assert.equal(
        bytes,
        parts.reduce((n, p) => n + readFileSync(path.join(dir, 'storage', p.file_path)).length, 0),
      );
    });
  }

  it('zstd: a storage that is not a folder is downloaded once, stored bytes only, into the private folder (0600)', async () => {
    const stored = await compressed('zstd');
    const { parts, expectedSha256, storage } = store(stored, 3 * MB);
    const at = privateDir();
    const source = await proveCopy(remote(storage), parts, { expectedSha256, compression: 'zstd', dir: at, signal });
    assert.deepEqual(readdirSync(at), ['stored']);
    assert.equal(statSync(path.join(at, 'stored')).mode & 0o777, 0o600);
    assert.equal(sha(readFileSync(path.join(at, 'stored'))), sha(stored));
    assert.equal(sha(await read(source)), sha(input));
  });

  for (const where of ['folder', 'remote'] as const) {
    it(`zstd (${where}): a flipped byte in part-002 is refused, the error names the part, and nothing is left`, async () => {
      const { parts, expectedSha256, storage } = store(await compressed('zstd'), 1 * MB);
      const file = path.join(dir, 'storage', parts[1]!.file_path);
      const bytes = readFileSync(file);
      bytes.writeUInt8(bytes.readUInt8(1000) ^ 0xff, 1000);
      writeFileSync(file, bytes);
      const at = privateDir();
      const from = where === 'folder' ? storage : remote(storage);
      await assert.rejects(proveCopy(from, parts, { expectedSha256, compression: 'zstd', dir: at, signal }), /part-002 is damaged/);
      assert.deepEqual(readdirSync(at), []);
    });
  }

  it('zstd: a part changed after it was proven fails the read, naming the part (a folder storage is read twice)', async () => {
    const { parts, expectedSha256, storage } = store(await compressed('zstd'), 1 * MB);
    const source = await proveCopy(storage, parts, { expectedSha256, compression: 'zstd', dir: privateDir(), signal });
    const file = path.join(dir, 'storage', parts[2]!.file_path);
    const bytes = readFileSync(file);
    bytes.writeUInt8(bytes.readUInt8(10) ^ 0xff, 10);
    writeFileSync(file, bytes);
    await assert.rejects(read(source), /part-003 is damaged|cannot|corrupt|invalid/i);
  });

  it('zstd: a wrong whole-file checksum is refused before any byte is decoded', async () => {
    const { parts, storage } = store(await compressed('zstd'), 2 * MB);
    await assert.rejects(
      proveCopy(storage, parts, { expectedSha256: sha(Buffer.from('other')), compression: 'zstd', dir: privateDir(), signal }),
      /does not match the SHA-256 in its manifest/,
    );
  });

  it('zstd: a stream cut in the middle of a frame whose checksums match fails as it is read', async () => {
    const stored = await compressed('zstd');
    const { parts, expectedSha256, storage } = store(stored.subarray(0, stored.length - 5000), 2 * MB);
    const source = await proveCopy(storage, parts, { expectedSha256, compression: 'zstd', dir: privateDir(), signal });
    await assert.rejects(read(source), /truncated/);
  });

  it('the decoded artifact must be the size the backup wrote: shorter or longer fails as it is read, the right size passes', async () => {
    const { parts, expectedSha256, storage } = store(await compressed('gzip'), 2 * MB);
    const prove = (expectedBytes: number) => proveCopy(storage, parts, { expectedSha256, compression: 'gzip', expectedBytes, dir: privateDir(), signal });
    assert.equal(sha(await read(await prove(input.length))), sha(input));
    await assert.rejects(read(await prove(input.length + 1)), new RegExp(`decodes to ${input.length} bytes, the backup wrote ${input.length + 1}`));
    await assert.rejects(read(await prove(input.length - 1)), /decodes to more than/);
  });

  it('zstd: a head that does not decode is refused before the source is handed out', async () => {
    const { parts, expectedSha256, storage } = store(randomBytes(3 * MB), 1 * MB);
    await assert.rejects(
      proveCopy(storage, parts, { expectedSha256, compression: 'zstd', dir: privateDir(), signal }),
      /Every checksum matches, but the backup cannot be decompressed \(zstd\)/,
    );
  });

  it('zstd: a one-frame file made by the zstd CLI (content size and checksum in the frame) restores', async () => {
    const cli = execFileSync('zstd', ['-c', '-q', '-3'], { input, maxBuffer: 1 << 26 });
    const { parts, expectedSha256, storage } = store(cli, 64 * MB);
    const source = await proveCopy(storage, parts, { expectedSha256, compression: 'zstd', dir: privateDir(), signal });
    assert.equal(sha(await read(source)), sha(input));
  });

  it('zstd: the decoder holds a few frames, not the backup, when the staging file is slower than the storage', async () => {
    const stored = await compressed('zstd');
    const decoder = createDecompressor('zstd');
    // A writer that takes the first frame and then stalls: what the decoder keeps waiting is what the restore would hold.
    let taken = 0;
    const stalled = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _enc, _next) {
        taken += chunk.length;
      },
    });
    decoder.pipe(stalled);
    const pieces = Array.from({ length: Math.ceil(stored.length / 65_536) }, (_, i) => stored.subarray(i * 65_536, (i + 1) * 65_536));
    for (const piece of pieces) decoder.write(piece);
    // Once a frame waits in the decoder, it decodes nothing more until the writer reads.
    await new Promise<void>((resolve) => {
      const check = () => (decoder.readableLength >= 4 * MB ? resolve() : setTimeout(check, 10));
      check();
    });
    assert.equal(taken, 4 * MB, 'one frame reached the writer');
    assert.ok(decoder.readableLength <= 4 * MB, `${decoder.readableLength} bytes wait in the decoder`);
    assert.ok(decoder.writableLength > 0, 'the rest of the input waits, compressed');
    decoder.destroy();
  });

  it('a joined stream closes its storage once, whether read to the end or dropped before its first read', async () => {
    const { parts, storage } = store(await compressed('zstd'), 3 * MB);
    let closes = 0;
    const counted = Object.assign(Object.create(storage) as LocalStorage, { close: async () => void closes++ });
    await pipeline(joinParts(counted, parts), new Writable({ write: (_c, _e, cb) => cb() }));
    assert.equal(closes, 1);
    const dropped = joinParts(counted, parts);
    dropped.destroy();
    await new Promise((resolve) => dropped.once('close', resolve));
    assert.equal(closes, 2);
  });

  it('zstd: frames whose headers arrive split across many small chunks decode the same', async () => {
    const text = Buffer.from(Array.from({ length: 400_000 }, (_, i) => `${i};customer ${i % 977};${(i * 7) % 1000}.50\n`).join(''));
    const stored: Buffer[] = [];
    await pipeline(Readable.from([text]), createCompressor('zstd'), new Writable({ write: (c, _e, cb) => (stored.push(c), cb()) }));
    const whole = Buffer.concat(stored);
    const pieces: Buffer[] = [];
    for (let at = 0, n = 1; at < whole.length; at += n, n = (n % 23) + 1) pieces.push(whole.subarray(at, at + n));
    const out: Buffer[] = [];
    await pipeline(Readable.from(pieces), createDecompressor('zstd'), new Writable({ write: (c, _e, cb) => (out.push(c), cb()) }));
    assert.ok(text.length > 8 * MB, 'three frames or more');
    assert.equal(sha(Buffer.concat(out)), sha(text));
  });
});
