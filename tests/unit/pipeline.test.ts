// writeArtifact into a real folder storage: an artifact is split into `.part-NNN` files only when
// its stored bytes exceed the limit (seed: monitoring-layout-rollback.md §3).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../shared/errors.js';
import type { Compression } from '../../shared/schemas/enums.js';
import { artifactBaseName } from '../../electron/core/backup/layout.js';
import { StorageWriteError, writeArtifact, type WrittenArtifact } from '../../electron/core/backup/pipeline.js';
import { LocalStorage } from '../../electron/core/storage/local.js';

const MB = 1024 * 1024;

/** `bytes` of random (incompressible) data made on demand, hashed as it goes out. */
function randomSource(bytes: number): { stream: Readable; sha256: () => string } {
  const hash = createHash('sha256');
  let left = bytes;
  const stream = new Readable({
    read() {
      if (left === 0) return void this.push(null);
      const chunk = randomBytes(Math.min(256 * 1024, left));
      left -= chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, sha256: () => hash.digest('hex') };
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** The parts joined in order (as `cat` would), through the zstd CLI; the SHA-256 of what comes out. */
async function zstdDecompressed(paths: string[]): Promise<string> {
  const zstd = spawn('zstd', ['-dcq'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve, reject) => {
    zstd.once('error', reject);
    zstd.once('close', resolve);
  });
  const hash = createHash('sha256');
  const hashed = pipeline(zstd.stdout, hash);
  for (const path of paths) await pipeline(createReadStream(path), zstd.stdin, { end: false });
  zstd.stdin.end();
  await hashed;
  assert.equal(await exited, 0, 'zstd -d exited with an error');
  return hash.digest('hex');
}

describe('writeArtifact with a folder storage', () => {
  let dir: string;
  let storage: LocalStorage;
  let runs = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dg-pipeline-'));
    storage = new LocalStorage({ path: dir });
  });
  after(async () => {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Writes `source` into a fresh execution folder, wired as the backup runner wires it. */
  async function write(
    source: Readable,
    compression: Compression,
    maxPartBytes?: number,
    folder = `job/run-${++runs}`,
  ): Promise<{ folder: string; written: WrittenArtifact }> {
    const signal = new AbortController().signal;
    const written = await writeArtifact({
      source,
      compression,
      level: 1,
      ...(maxPartBytes ? { maxPartBytes } : {}),
      baseName: artifactBaseName('dump', compression),
      put: (name, body) => storage.put(`${folder}/${name}`, body, { signal }),
      rename: (from, to) => storage.rename(`${folder}/${from}`, `${folder}/${to}`),
      signal,
    });
    return { folder: join(dir, ...folder.split('/')), written };
  }

  /** What the folder holds, and that it is exactly what writeArtifact reported. */
  async function checkFolder(folder: string, written: WrittenArtifact): Promise<string[]> {
    const names = readdirSync(folder).sort();
    assert.deepEqual(
      names,
      written.parts.map((p) => p.file),
    );
    for (const part of written.parts) {
      const path = join(folder, part.file);
      assert.equal(statSync(path).size, part.size, part.file);
      assert.equal(await sha256File(path), part.sha256, part.file);
    }
    assert.equal(
      written.parts.reduce((sum, p) => sum + p.size, 0),
      written.stored.bytes,
    );
    return names;
  }

  test('a 30 MB artifact under a 40 MB limit is one file with the base name, not a .part-001', async () => {
    const source = randomSource(30 * MB);
    const { folder, written } = await write(source.stream, 'zstd', 40 * MB);
    assert.deepEqual(await checkFolder(folder, written), ['backup.dump.zst']);
    assert.deepEqual(
      written.parts.map((p) => [p.number, p.file]),
      [[1, 'backup.dump.zst']],
    );
    assert.equal(written.raw.bytes, 30 * MB);
    assert.equal(written.stored.sha256, written.parts[0]!.sha256);
    assert.equal(await zstdDecompressed([join(folder, 'backup.dump.zst')]), source.sha256());
  });

  test('a 90 MB artifact over a 40 MB limit is three parts that join and decompress back to the source', async () => {
    const source = randomSource(90 * MB);
    const { folder, written } = await write(source.stream, 'zstd', 40 * MB);
    const names = await checkFolder(folder, written);
    assert.deepEqual(names, ['backup.dump.zst.part-001', 'backup.dump.zst.part-002', 'backup.dump.zst.part-003']);
    // Random data does not shrink: the limit applies to the stored (compressed) bytes.
    assert.ok(written.stored.bytes > 80 * MB, `${written.stored.bytes} bytes stored`);
    assert.deepEqual(
      written.parts.map((p) => p.size),
      [40 * MB, 40 * MB, written.stored.bytes - 80 * MB],
    );
    const paths = names.map((n) => join(folder, n));
    const joined = createHash('sha256');
    for (const path of paths) await pipeline(createReadStream(path), joined, { end: false });
    assert.equal(joined.digest('hex'), written.stored.sha256);
    assert.equal(await zstdDecompressed(paths), source.sha256());
  });

  test('a source that ends without a byte (a dump lost on the way) fails the write: an empty backup is not kept', async () => {
    for (const compression of ['zstd', 'none'] as const) await assert.rejects(write(Readable.from([]), compression, MB), /ended without writing anything/);
  });

  test('without a limit, one file with the base name', async () => {
    const source = randomSource(5 * MB);
    const { folder, written } = await write(source.stream, 'zstd');
    assert.deepEqual(await checkFolder(folder, written), ['backup.dump.zst']);
    assert.equal(await zstdDecompressed([join(folder, 'backup.dump.zst')]), source.sha256());
  });

  test('exactly at the limit is one file; one byte over is two parts', async () => {
    const at = await write(randomSource(MB).stream, 'none', MB);
    assert.deepEqual(await checkFolder(at.folder, at.written), ['backup.dump']);
    const over = await write(randomSource(MB + 1).stream, 'none', MB);
    assert.deepEqual(await checkFolder(over.folder, over.written), ['backup.dump.part-001', 'backup.dump.part-002']);
    assert.deepEqual(
      over.written.parts.map((p) => p.size),
      [MB, 1],
    );
  });

  test('a refused rename fails the write as a storage failure, and replaces nothing', async () => {
    const folder = 'job/taken';
    await storage.put(`${folder}/backup.dump`, Readable.from([Buffer.from('an older file')]));
    await assert.rejects(write(randomSource(1000).stream, 'none', MB, folder), (error: Error) => {
      assert.ok(error instanceof StorageWriteError, String(error));
      assert.ok(error.cause instanceof AppError && error.cause.code === 'conflict', String(error.cause));
      return true;
    });
    assert.equal((await storage.stat(`${folder}/backup.dump`))?.size, 'an older file'.length);
  });
});
