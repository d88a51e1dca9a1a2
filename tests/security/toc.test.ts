// A backup's table of contents comes from a storage anyone may have written to: one whose checksum does not match, whose
// offsets point outside the archive or at other bytes, or whose frames were swapped is never used to read anything; the
// paths a user asks for never climb out, name an absolute file or hold a NUL.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { createCompressor } from '../../electron/core/backup/compress.js';
import { frameRecorder, storeToc } from '../../electron/core/backup/toc.js';
import { newKeyPair } from '../../electron/core/kernel/age.js';
import { loadToc, TocUnusable } from '../../electron/core/restore/contents.js';
import { archiveReader } from '../../electron/core/restore/ranges.js';
import { chosenEntries, sameEntries } from '../../electron/core/restore/take-out.js';
import { LocalStorage } from '../../electron/core/storage/local.js';
import { backupFileInput, entriesInput, type Toc } from '../../shared/schemas/toc.js';
import { restoreInput } from '../../shared/schemas/restore.js';

const dir = mkdtempSync('/tmp/dg-toc-security-');
after(() => rmSync(dir, { recursive: true, force: true }));
const storage = new LocalStorage({ path: dir });
const ID = '00000000-0000-4000-8000-000000000000';
const entry = { path: 'a.txt', type: 'file' as const, size: 10, mode: 0o644, mtime: new Date(0).toISOString(), link: null, offset: 0, data: 512 };

async function stored(name: string, toc: Toc, recipients: string[] | null = null) {
  return storeToc(toc, { recipients, put: (file, body) => storage.put(`${name}/${file}`, body) });
}

describe('a table of contents read from a storage', () => {
  it('is not used when its checksum does not match, even by one byte, encrypted or not', async () => {
    const keys = await newKeyPair();
    for (const recipients of [null, [keys.recipient]]) {
      const name = recipients ? 'sealed' : 'plain';
      const ref = await stored(name, { version: 1, kind: 'files', files: [entry], raw_bytes: 2048 }, recipients);
      const o = { identities: recipients ? [keys.identity] : null, storedPayloadBytes: null };
      assert.equal((await loadToc(storage, name, ref, o)).files![0]!.path, 'a.txt');
      await assert.rejects(loadToc(storage, name, { ...ref, checksum: `sha256:${'0'.repeat(64)}` }, o), TocUnusable);
      await assert.rejects(loadToc(storage, name, { ...ref, size_bytes: ref.size_bytes - 1 }, o), TocUnusable);
    }
  });

  it('is not used when an entry points outside the archive', async () => {
    const ref = await stored('outside', { version: 1, kind: 'files', files: [{ ...entry, data: 4096 }], raw_bytes: 2048 });
    await assert.rejects(loadToc(storage, 'outside', ref, { identities: null, storedPayloadBytes: null }), /points outside the archive/);
  });

  it('a frame whose bytes differ from the SHA-256 recorded for it is refused before it is decompressed', async () => {
    const raw = Buffer.alloc(9 * 1024 * 1024, 'x');
    const frames = frameRecorder();
    const out: Buffer[] = [];
    const compressor = createCompressor('zstd', 3, frames.onFrame);
    compressor.on('data', (d: Buffer) => out.push(d));
    const ended = new Promise((r) => compressor.once('end', r));
    compressor.end(raw);
    await ended;
    const file = Buffer.concat(out);
    await storage.put('frames/backup.tar.zst', Readable.from([file]));
    const toc: Toc = { version: 1, kind: 'files', files: [], frames: frames.frames, raw_bytes: raw.length };
    const parts = [{ key: 'frames/backup.tar.zst', size: file.length }];
    const read = async (t: Toc) => {
      const chunks: Buffer[] = [];
      for await (const c of archiveReader({ storage, parts, compression: 'zstd', toc: t, identities: null }).raw(5 * 1024 * 1024, 5 * 1024 * 1024 + 10))
        chunks.push(c);
      return Buffer.concat(chunks);
    };
    assert.equal((await read(toc)).toString(), 'x'.repeat(10));
    const swapped = {
      ...toc,
      frames: toc.frames!.map((f, i) => (i === 1 ? ([f[0], f[1], createHash('sha256').update('other').digest('hex')] as const) : f)) as Toc['frames'],
    };
    await assert.rejects(read(swapped), /does not match its SHA-256/);
    await assert.rejects(read({ ...toc, raw_bytes: 100 }), /outside the archive/);
  });

  it('a tar made from offsets that point at other entries is caught before it is restored', () => {
    const b = { ...entry, path: 'b.txt', offset: 1024, data: 1536 };
    assert.equal(sameEntries([b], [entry]), false);
    assert.equal(sameEntries([entry, b], [entry, b]), true);
  });
});

describe('paths asked for by a user', () => {
  it('never climb out, name an absolute file or hold a NUL: refused at the boundary', () => {
    for (const bad of ['../x', 'a/../../x', '..', '/etc/passwd', '\\\\server\\share', 'C:\\Windows', 'a\0b']) {
      assert.equal(entriesInput.safeParse({ id: ID, path: bad }).success, false, `entries ${JSON.stringify(bad)}`);
      assert.equal(backupFileInput.safeParse({ id: ID, path: bad }).success, false, `file ${JSON.stringify(bad)}`);
      assert.equal(restoreInput.safeParse({ id: ID, paths: [bad] }).success, false, `restore ${JSON.stringify(bad)}`);
    }
    assert.equal(restoreInput.safeParse({ id: ID, paths: [] }).success, false, 'an empty choice is not "everything"');
    assert.equal(restoreInput.safeParse({ id: ID, paths: ['a/b.txt'] }).success, true);
  });

  it('a path the backup does not hold is refused by name; a folder brings what is below it, and nothing beside it', () => {
    const files = [entry, { ...entry, path: 'dir', type: 'directory' as const }, { ...entry, path: 'dir/x' }, { ...entry, path: 'dirty' }];
    assert.throws(() => chosenEntries(files, ['nope']), /“nope” is not in this backup/);
    assert.deepEqual(
      chosenEntries(files, ['dir']).map((f) => f.path),
      ['dir', 'dir/x'],
    );
  });
});
