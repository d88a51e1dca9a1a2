import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, describe, it } from 'node:test';
import { splitIntoParts } from '../../electron/core/backup/chunks.js';
import { createCompressor, createDecompressor } from '../../electron/core/backup/compress.js';
import { artifactBaseName, executionFolder } from '../../electron/core/backup/layout.js';

const dir = mkdtempSync('/tmp/dg-compress-');
after(() => rmSync(dir, { recursive: true, force: true }));

/** ~6 MB: text that compresses, with random stretches that do not. */
const input = Buffer.concat(
  Array.from({ length: 24 }, (_, i) => (i % 3 === 0 ? randomBytes(256 * 1024) : Buffer.from(`row ${i} ${'abcdefgh'.repeat(32_000)}\n`))),
);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const CLI = { gzip: ['gzip', '-dc'], zstd: ['zstd', '-dcq'], lz4: ['lz4', '-dcq'] } as const;

async function writeParts(kind: 'gzip' | 'zstd' | 'lz4' | 'none', maxPartBytes?: number) {
  const folder = mkdtempSync(path.join(dir, `${kind}-`));
  const split = splitIntoParts({
    maxPartBytes,
    baseName: artifactBaseName('dump', kind),
    putPart: async (name, body) => {
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(c as Buffer);
      writeFileSync(path.join(folder, name), Buffer.concat(chunks));
      return { size: Buffer.concat(chunks).length };
    },
    renamePart: async (from, to) => renameSync(path.join(folder, from), path.join(folder, to)),
  });
  await pipeline(Readable.from([input]), createCompressor(kind), split.writable);
  return { folder, parts: await split.done, sha256: split.sha256 };
}

describe('compression writes the standard formats, in parts that cat joins', () => {
  for (const kind of ['gzip', 'zstd', 'lz4'] as const) {
    it(`${kind}: parts checked with sha256sum, joined with cat, decompressed by the ${CLI[kind][0]} CLI`, async () => {
      const { folder, parts, sha256 } = await writeParts(kind, 1024 * 1024);
      assert.ok(parts.length >= 2, 'split into several parts');
      assert.deepEqual(
        parts.map((p) => p.file),
        parts.map((p, i) => `backup.dump.${{ gzip: 'gz', zstd: 'zst', lz4: 'lz4' }[kind]}.part-${String(i + 1).padStart(3, '0')}`),
      );
      for (const p of parts) assert.equal(execFileSync('sha256sum', [path.join(folder, p.file)], { encoding: 'utf8' }).split(' ')[0], p.sha256);
      const joined = execFileSync('bash', ['-c', `cat ${folder}/*.part-*`], { maxBuffer: 1 << 26 });
      assert.equal(sha(joined), sha256());
      const plain = execFileSync(CLI[kind][0], CLI[kind].slice(1), { input: joined, maxBuffer: 1 << 26 });
      assert.equal(sha(plain), sha(input));
    });

    it(`${kind}: our decompressor reads what the ${CLI[kind][0]} CLI writes`, async () => {
      const file = path.join(dir, `cli.${kind}`);
      writeFileSync(file, execFileSync(CLI[kind][0], kind === 'gzip' ? ['-c'] : ['-c', '-q'], { input, maxBuffer: 1 << 26 }));
      const out: Buffer[] = [];
      await pipeline(Readable.from([readFileSync(file)]), createDecompressor(kind), new Writable({ write: (c, _e, cb) => (out.push(c), cb()) }));
      assert.equal(sha(Buffer.concat(out)), sha(input));
    });
  }

  /** Compresses in uneven pieces (as a dump's pipe delivers them), returning the stored bytes. */
  async function compressAll(kind: 'gzip' | 'zstd' | 'lz4', source: Buffer, level?: number) {
    const pieces = Array.from({ length: Math.ceil(source.length / 65_000) }, (_, i) => source.subarray(i * 65_000, (i + 1) * 65_000));
    const out: Buffer[] = [];
    await pipeline(Readable.from(pieces), createCompressor(kind, level), new Writable({ write: (c, _e, cb) => (out.push(c), cb()) }));
    return Buffer.concat(out);
  }

  /** Where each frame (gzip member, zstd or lz4 frame) starts: the frames are compressed apart, on the thread pool. */
  const MAGIC = { gzip: Buffer.from([0x1f, 0x8b, 0x08]), zstd: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), lz4: Buffer.from([0x04, 0x22, 0x4d, 0x18]) };

  for (const kind of ['gzip', 'zstd', 'lz4'] as const) {
    it(`${kind}: a 6 MB source is two frames or more, in order; the CLI and our decompressor read them as one file`, async () => {
      const stored = await compressAll(kind, input);
      assert.equal(stored.subarray(0, MAGIC[kind].length).compare(MAGIC[kind]), 0, 'starts with a frame');
      let frames = 0;
      for (let at = stored.indexOf(MAGIC[kind]); at >= 0; at = stored.indexOf(MAGIC[kind], at + 1)) frames++;
      assert.ok(frames >= 2, `${frames} frame headers found`);
      assert.equal(sha(execFileSync(CLI[kind][0], CLI[kind].slice(1), { input: stored, maxBuffer: 1 << 26 })), sha(input));
      const out: Buffer[] = [];
      await pipeline(Readable.from([stored]), createDecompressor(kind), new Writable({ write: (c, _e, cb) => (out.push(c), cb()) }));
      assert.equal(sha(Buffer.concat(out)), sha(input));
    });

    it(`${kind}: an empty source is a valid empty file for the ${CLI[kind][0]} CLI`, async () => {
      const stored = await compressAll(kind, Buffer.alloc(0));
      assert.ok(stored.length > 0);
      assert.equal(execFileSync(CLI[kind][0], CLI[kind].slice(1), { input: stored }).length, 0);
    });
  }

  it('lz4: blocks that do not shrink (random bytes) are stored as they are; the CLI and our decompressor read them', async () => {
    const noise = randomBytes(9 * 1024 * 1024);
    const stored = await compressAll('lz4', noise);
    assert.ok(stored.length > noise.length && stored.length < noise.length + 100, 'a few header bytes per frame');
    assert.equal(sha(execFileSync(CLI.lz4[0], CLI.lz4.slice(1), { input: stored, maxBuffer: 1 << 26 })), sha(noise));
    const out: Buffer[] = [];
    await pipeline(Readable.from([stored]), createDecompressor('lz4'), new Writable({ write: (c, _e, cb) => (out.push(c), cb()) }));
    assert.equal(sha(Buffer.concat(out)), sha(noise));
  });

  it('lz4 at a high-compression level (3 and up) still writes frames the lz4 CLI reads', async () => {
    const stored = await compressAll('lz4', input, 9);
    assert.equal(sha(execFileSync(CLI.lz4[0], CLI.lz4.slice(1), { input: stored, maxBuffer: 1 << 26 })), sha(input));
  });

  it('the level asked for is the level used: a higher one writes fewer bytes, for gzip, zstd and lz4 (HC)', async () => {
    // Text like a dump's rows (words drawn by a fixed LCG): where a higher level finds more matches. The shared input's
    // random stretches and long repeats compress the same at every level.
    const words = ['order', 'shipped', 'customer', 'invoice', 'paid', 'pending', 'Lisbon', 'Porto', 'refund', 'total', 'EUR', 'note'];
    let seed = 7;
    const rows = Array.from({ length: 60_000 }, (_, i) => {
      const pick = () => words[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % words.length];
      return `${i}\t${pick()} ${pick()} ${pick()}\t${(seed % 100_000) / 100}\n`;
    });
    const text = Buffer.from(rows.join(''));
    for (const [kind, low, high] of [
      ['gzip', 1, 9],
      ['zstd', 1, 9],
      ['lz4', 1, 9],
    ] as const) {
      const [fast, small] = [await compressAll(kind, text, low), await compressAll(kind, text, high)];
      assert.ok(small.length < fast.length * 0.95, `${kind} level ${high} wrote ${small.length} bytes, level ${low} ${fast.length}`);
      const cli = CLI[kind];
      assert.equal(sha(execFileSync(cli[0], cli.slice(1), { input: small, maxBuffer: 1 << 26 })), sha(text));
    }
  });

  it('without a part size, one file named as the seed says', async () => {
    const { parts, sha256 } = await writeParts('none');
    assert.deepEqual(
      parts.map((p) => p.file),
      ['backup.dump'],
    );
    assert.equal(parts[0]!.size, input.length);
    assert.equal(sha256(), sha(input), 'the one part is the whole artifact');
  });

  it('a storage failing on part 2 fails the whole pipeline', async () => {
    let calls = 0;
    const split = splitIntoParts({
      maxPartBytes: 1024 * 1024,
      baseName: 'backup.tar',
      putPart: async (_name, body) => {
        calls++;
        if (calls === 2) {
          body.resume();
          throw new Error('disk full');
        }
        for await (const _ of body);
        return { size: 0 };
      },
      renamePart: async () => undefined,
    });
    await assert.rejects(pipeline(Readable.from([input]), createCompressor('none'), split.writable), /disk full|stopped/);
    await assert.rejects(split.done);
  });

  it('names the execution folder in UTC', () => {
    assert.equal(executionFolder(new Date('2025-02-13T06:00:01Z')), '2025-02-13_060001');
    assert.equal(artifactBaseName('tar', 'lz4'), 'backup.tar.lz4');
    assert.equal(artifactBaseName('sql', 'none'), 'backup.sql');
  });
});
