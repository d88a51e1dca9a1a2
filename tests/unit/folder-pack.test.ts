// The folder engine at the speed of tar: thousands of small files read with synchronous calls into ~1 MiB pieces, a big
// file read ahead. What is written must still be what GNU tar reads, and the event loop must keep its turns.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  createWriteStream,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, describe, it } from 'node:test';
import { filesEngine } from '../../electron/core/engines/files/index.js';
import { pack } from '../../electron/core/engines/files/pack.js';
import { Pace } from '../../electron/core/engines/files/pace.js';
import type { EngineOptions } from '../../electron/core/engines/types.js';

const dir = mkdtempSync('/tmp/dg-folder-pack-');
after(() => rmSync(dir, { recursive: true, force: true }));

const options = (): EngineOptions => ({
  includeTables: [],
  excludeTables: [],
  parallelJobs: 1,
  compressedByPipeline: false,
  toolDirs: {},
  tempDir: dir,
  signal: new AbortController().signal,
  log: () => undefined,
});
const config = (source: string) => ({ source_path: source, include_patterns: [], exclude_patterns: [] });

/** Small files in a few folders, text of varied sizes (not multiples of 512: each needs its own padding). */
function smallFiles(root: string, count: number) {
  for (let i = 0; i < count; i++) {
    const folder = path.join(root, `batch-${i % 4}`);
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, `note-${i}.txt`), `${i} `.repeat(200 + (i % 97) * 13));
  }
}

describe('folder backups of many small files and a big one', () => {
  const src = path.join(dir, 'src');
  const SMALL_LIMIT = 256 * 1024;
  mkdirSync(src);
  smallFiles(src, 3000);
  // Around the size where files switch from synchronous reads to reads ahead, and a big file over many pieces.
  writeFileSync(path.join(src, 'at-the-limit'), randomBytes(SMALL_LIMIT));
  writeFileSync(path.join(src, 'just-over'), randomBytes(SMALL_LIMIT + 1));
  writeFileSync(path.join(src, 'big.bin'), randomBytes(9 * 1024 * 1024 + 333));
  writeFileSync(path.join(src, 'empty'), '');
  symlinkSync('batch-1/note-1.txt', path.join(src, 'link-to-a-note'));
  writeFileSync(path.join(src, 'run.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(path.join(src, 'run.sh'), 0o751);
  utimesSync(path.join(src, 'run.sh'), new Date('2021-03-04T05:06:07Z'), new Date('2021-03-04T05:06:07Z'));

  it('GNU tar lists and extracts the same tree: contents, the symlink, the empty file, modes and mtimes', async () => {
    const file = path.join(dir, 'all.tar');
    const dump = await filesEngine.dump(config(src), options());
    await pipeline(dump.stream, createWriteStream(file));
    const result = await dump.finished;
    assert.equal(result.files_count, 3000 + 6);
    assert.equal(result.skipped_files, 0);

    const listing = execFileSync('tar', ['-tvf', file], { encoding: 'utf8', maxBuffer: 1 << 24 })
      .trim()
      .split('\n');
    assert.equal(listing.length, 3000 + 6 + 4, 'files, the link and four folders');
    assert.ok(listing.some((l) => /^lrwx.* link-to-a-note -> batch-1\/note-1\.txt$/.test(l)));
    assert.ok(listing.some((l) => /^-rwxr-x--x .* 2021-03-04 \d\d:\d\d run\.sh$/.test(l)));

    const out = path.join(dir, 'out');
    mkdirSync(out);
    const stderr = execFileSync('bash', ['-c', `tar -C ${out} -xf ${file} 2>&1 >/dev/null`], { encoding: 'utf8' });
    assert.equal(stderr, '', 'GNU tar has nothing to say about the archive');
    execFileSync('diff', ['-r', '--no-dereference', src, out]);
    assert.equal(readlinkSync(path.join(out, 'link-to-a-note')), 'batch-1/note-1.txt');
    assert.equal(statSync(path.join(out, 'empty')).size, 0);
    assert.equal(statSync(path.join(out, 'run.sh')).mode & 0o777, 0o751);
    assert.equal(statSync(path.join(out, 'run.sh')).mtime.toISOString(), '2021-03-04T05:06:07.000Z');
    assert.equal(
      lstatSync(path.join(out, 'batch-3', 'note-2999.txt')).mtime.getTime() / 1000,
      Math.floor(statSync(path.join(src, 'batch-3', 'note-2999.txt')).mtimeMs / 1000),
    );
  });

  it('on a slow disk (entries read ahead through the pool) the archive is the same, byte for byte', async () => {
    const collect = async (stream: NodeJS.ReadableStream) => {
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    };
    const fast = await filesEngine.dump(config(src), options());
    const slow = pack(config(src), options(), { slow: true });
    const [a, b] = await Promise.all([collect(fast.stream), collect(slow.stream)]);
    assert.equal((await slow.finished).files_count, 3000 + 6);
    assert.ok(a.equals(b), 'the two archives differ');
  });

  it('goes down the pipeline in pieces of about 1 MiB, never more, and a backup pulled slowly holds only a few of them', async () => {
    const dump = await filesEngine.dump(config(src), options());
    const sizes: number[] = [];
    let buffered = 0;
    // A slow storage, as the pipeline writes to it: the engine must wait (backpressure), not read the folder into memory.
    const slowStorage = new Writable({
      highWaterMark: 1024 * 1024,
      write(chunk: Buffer, _encoding, done) {
        sizes.push(chunk.length);
        buffered = Math.max(buffered, dump.stream.readableLength);
        setTimeout(done, sizes.length % 8 === 0 ? 5 : 0);
      },
    });
    await pipeline(dump.stream, slowStorage);
    assert.ok(buffered <= 5 * 1024 * 1024, `the engine held ${buffered} bytes`);
    await dump.finished;
    assert.ok(Math.max(...sizes) <= 1024 * 1024);
    const total = sizes.reduce((a, b) => a + b, 0);
    assert.ok(total / sizes.length > 256 * 1024, `pieces of ${Math.round(total / sizes.length)} bytes on average: small files are batched`);
  });

  it('keeps the event loop turning: a timer gets its turn every few hundred KB while thousands of small files are read', async () => {
    const many = path.join(dir, 'many');
    smallFiles(many, 8000);
    // Counted in bytes read between two ticks of a 1 ms timer, not in milliseconds: this machine is shared, and a plain loop
    // of 1 ms tasks already sees gaps of 200 ms here when other work runs. Read without turns, the whole walk (~28 MB)
    // passes between two ticks; with them, about one turn's worth (1 ms of reads) plus what was buffered (2 MiB).
    let bytes = 0;
    let atLastTick = 0;
    let most = 0;
    let ticks = 0;
    const timer = setInterval(() => {
      most = Math.max(most, bytes - atLastTick);
      atLastTick = bytes;
      ticks++;
    }, 1);
    try {
      const dump = await filesEngine.dump(config(many), options());
      for await (const chunk of dump.stream) bytes += (chunk as Buffer).length;
      assert.equal((await dump.finished).files_count, 8000);
      most = Math.max(most, bytes - atLastTick);
    } finally {
      clearInterval(timer);
    }
    assert.ok(bytes > 20 * 1024 * 1024);
    assert.ok(most < 4 * 1024 * 1024, `${(most / 2 ** 20).toFixed(1)} MiB were read between two turns of the timer (${ticks} turns in all)`);
  });

  it('files that vanish while the backup runs are skipped, counted and named in the log; the rest is archived', async () => {
    const folder = path.join(dir, 'vanishing');
    // 8 MB a folder: the first piece goes down the pipeline long before the walk reaches the end of the first one.
    for (let i = 0; i < 2000; i++) {
      mkdirSync(path.join(folder, `batch-${i % 4}`), { recursive: true });
      writeFileSync(path.join(folder, `batch-${i % 4}`, `note-${i}.txt`), randomBytes(16 * 1024));
    }
    const lines: string[] = [];
    const dump = await filesEngine.dump(config(folder), { ...options(), log: (_level, m) => lines.push(m) });
    // The last files of the folder being read when the first piece arrives: listed already, not read yet.
    const last = readdirSync(path.join(folder, 'batch-0')).sort().slice(-100);
    let first = true;
    const deleteLater = new Writable({
      write(_chunk, _encoding, done) {
        if (first) for (const name of last) rmSync(path.join(folder, 'batch-0', name));
        first = false;
        done();
      },
    });
    await pipeline(dump.stream, deleteLater);
    const result = await dump.finished;
    assert.equal(result.skipped_files, 100);
    assert.equal(result.files_count, 1900);
    assert.match(lines.join('\n'), new RegExp(`skipped batch-0/${last.at(-1)!.replace('.', '\\.')}: ENOENT`));
  });

  it('a folder that is gone fails the dump with "Folder not found", never an empty archive', async () => {
    const missing = path.join(dir, 'missing');
    const dump = await filesEngine.dump(config(missing), options());
    await assert.rejects(pipeline(dump.stream, createWriteStream(path.join(dir, 'missing.tar'))), { message: `Folder not found: ${missing}` });
    await assert.rejects(dump.finished);
    await assert.rejects(filesEngine.inspect(config(missing), options()), { message: `Folder not found: ${missing}` });
  });

  it('the size estimate counts what the backup reads: included files, not excluded ones', async () => {
    const some = path.join(dir, 'estimate');
    mkdirSync(path.join(some, 'cache'), { recursive: true });
    writeFileSync(path.join(some, 'a.txt'), 'x'.repeat(1000));
    writeFileSync(path.join(some, 'cache', 'b.bin'), 'y'.repeat(5000));
    writeFileSync(path.join(some, 'c.log'), 'z'.repeat(300));
    const inspection = await filesEngine.inspect({ source_path: some, include_patterns: [], exclude_patterns: ['cache/*', '*.log'] }, options());
    assert.equal(inspection.size_estimate_bytes, 1000);
  });
});

describe('the pace of a disk', () => {
  it('three slow entries in a row send a folder through the pool; one pause of a busy machine does not', () => {
    const busy = new Pace();
    for (const ms of [0.1, 30, 0.1, 0.1, 8, 9, 0.2, 40]) busy.record(ms);
    assert.equal(busy.slow, false);
    const network = new Pace();
    for (const ms of [0.1, 6, 7, 12]) network.record(ms);
    assert.equal(network.slow, true);
  });
});
