import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  createReadStream,
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, describe, it } from 'node:test';
import tar from 'tar-stream';
import { filesEngine } from '../../electron/core/engines/files/index.js';
import type { EngineOptions } from '../../electron/core/engines/types.js';

const dir = mkdtempSync('/tmp/dg-tar-');
after(() => rmSync(dir, { recursive: true, force: true }));

const options = (signal = new AbortController().signal): EngineOptions => ({
  includeTables: [],
  excludeTables: [],
  parallelJobs: 1,
  compressedByPipeline: false,
  toolDirs: {},
  tempDir: dir,
  signal,
  log: () => undefined,
});

async function dumpFolder(source: string, file: string) {
  const dump = await filesEngine.dump({ source_path: source, include_patterns: [], exclude_patterns: [] }, options());
  await pipeline(dump.stream, createWriteStream(file));
  return dump.finished;
}

describe('the folder engine writes POSIX tar that GNU tar and tar-stream read', () => {
  const src = path.join(dir, 'src');
  const deep = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(60)}`;
  const longName = `${'n'.repeat(140)}.txt`;
  const longTarget = `../${'t'.repeat(120)}`;
  mkdirSync(path.join(src, deep), { recursive: true });
  mkdirSync(path.join(src, 'café'), { recursive: true });
  writeFileSync(path.join(src, deep, 'needs-a-prefix.txt'), 'split between prefix and name');
  writeFileSync(path.join(src, longName), 'only a pax path holds this name');
  writeFileSync(path.join(src, 'café', 'naïve.txt'), 'utf-8 names');
  writeFileSync(path.join(src, 'empty'), '');
  writeFileSync(path.join(src, 'one-block'), Buffer.alloc(512, 1));
  // Around the size where files switch from read whole to streamed in pieces.
  writeFileSync(path.join(src, 'big-exact'), randomBytes(1024 * 1024));
  writeFileSync(path.join(src, 'big-plus-one'), randomBytes(1024 * 1024 + 1));
  writeFileSync(path.join(src, 'big-odd'), randomBytes(3 * 1024 * 1024 + 777));
  writeFileSync(path.join(src, 'run.sh'), '#!/bin/sh\n');
  chmodSync(path.join(src, 'run.sh'), 0o750);
  symlinkSync(longTarget, path.join(src, 'far-link'));
  for (let i = 0; i < 300; i++) writeFileSync(path.join(src, 'café', `small-${i}`), randomBytes(i * 7));

  it('GNU tar extracts the same tree: long names (prefix and pax), a long link target, utf-8, modes, sizes at the piece edges', async () => {
    const file = path.join(dir, 'a.tar');
    const result = await dumpFolder(src, file);
    assert.equal(result.files_count, 310);
    assert.equal(result.skipped_files, 0);
    assert.equal(statSync(file).size % 512, 0, 'whole blocks');
    const out = path.join(dir, 'out');
    mkdirSync(out);
    // stdio: GNU tar's warnings (bad checksum, unknown headers) would be on stderr; it must print nothing.
    const stderr = execFileSync('bash', ['-c', `tar -C ${out} -xf ${file} 2>&1 >/dev/null`], { encoding: 'utf8' });
    assert.equal(stderr, '');
    execFileSync('diff', ['-r', '--no-dereference', src, out]);
    assert.equal(readlinkSync(path.join(out, 'far-link')), longTarget);
    assert.equal(statSync(path.join(out, 'run.sh')).mode & 0o777, 0o750);
    assert.equal(readFileSync(path.join(out, deep, 'needs-a-prefix.txt'), 'utf8'), 'split between prefix and name');
  });

  it('tar-stream (the restore side) lists every entry with its name, type and size', async () => {
    const file = path.join(dir, 'b.tar');
    await dumpFolder(src, file);
    const extract = tar.extract();
    const feeding = pipeline(createReadStream(file), extract);
    const seen = new Map<string, { type: string; size: number; linkname?: string | null }>();
    for await (const entry of extract) {
      seen.set(entry.header.name, { type: entry.header.type ?? '', size: entry.header.size ?? 0, linkname: entry.header.linkname });
      entry.resume();
    }
    await feeding;
    assert.deepEqual(seen.get(longName), { type: 'file', size: 31, linkname: null });
    assert.equal(seen.get(`${deep}/needs-a-prefix.txt`)?.size, 29);
    assert.equal(seen.get('far-link')?.linkname, longTarget);
    assert.equal(seen.get('big-odd')?.size, 3 * 1024 * 1024 + 777);
    assert.equal(seen.get('café/')?.type, 'directory');
    assert.equal(seen.size, 310 + 4, 'files, the link and four folders');
  });

  it('a file that shrinks while it is read keeps the size lstat gave, padded with zeros, and the log says so', async () => {
    const folder = path.join(dir, 'shrinking');
    mkdirSync(folder);
    const content = randomBytes(12 * 1024 * 1024);
    writeFileSync(path.join(folder, 'growing-log'), content);
    const lines: string[] = [];
    const dump = await filesEngine.dump({ source_path: folder, include_patterns: [], exclude_patterns: [] }, { ...options(), log: (_l, m) => lines.push(m) });
    const chunks: Buffer[] = [];
    for await (const chunk of dump.stream) {
      // After the first piece is out (the stream reads ahead at most a few MiB), the file loses its second half.
      if (chunks.length === 0) truncateSync(path.join(folder, 'growing-log'), 6 * 1024 * 1024);
      chunks.push(chunk as Buffer);
    }
    await dump.finished;
    const file = path.join(dir, 'shrunk.tar');
    writeFileSync(file, Buffer.concat(chunks));
    const out = path.join(dir, 'shrunk');
    mkdirSync(out);
    execFileSync('tar', ['-C', out, '-xf', file]);
    const back = readFileSync(path.join(out, 'growing-log'));
    assert.equal(back.length, content.length);
    assert.ok(back.subarray(0, 6 * 1024 * 1024).equals(content.subarray(0, 6 * 1024 * 1024)));
    assert.ok(back.subarray(6 * 1024 * 1024).equals(Buffer.alloc(6 * 1024 * 1024)));
    assert.match(lines.join('\n'), /growing-log shrank by 6291456 bytes during the backup; padded with zeros/);
  });

  it('a cancelled backup stops the stream with an error', async () => {
    const abort = new AbortController();
    const dump = await filesEngine.dump({ source_path: src, include_patterns: [], exclude_patterns: [] }, options(abort.signal));
    abort.abort(new Error('cancelled by the user'));
    await assert.rejects(pipeline(dump.stream, createWriteStream(path.join(dir, 'c.tar'))));
    await assert.rejects(dump.finished);
  });
});
