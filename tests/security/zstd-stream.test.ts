// A backup's zstd stream comes from a storage someone else may write to (a shared bucket, an imported folder):
// whatever its frame headers claim, the restore's decoder refuses what is not zstd, reports a stream cut short,
// and does not hold a skippable frame in memory however large it says it is.
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { createCompressor, createDecompressor } from '../../electron/core/backup/compress.js';

async function decode(pieces: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(pieces), createDecompressor('zstd'), new Writable({ write: (c, _e, cb) => (out.push(c), cb()) }));
  return Buffer.concat(out);
}

async function zstd(data: Buffer): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from([data]), createCompressor('zstd'), new Writable({ write: (c, _e, cb) => (out.push(c), cb()) }));
  return Buffer.concat(out);
}

/** A skippable frame's header: magic 0x184D2A5x, then the size of what follows. */
function skippableHeader(size: number): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(0x184d2a53, 0);
  header.writeUInt32LE(size, 4);
  return header;
}

describe('the zstd decoder of restores, given a hostile stream', () => {
  it('refuses bytes that are not a zstd frame', async () => {
    await assert.rejects(decode([Buffer.from('#!/bin/sh\necho planted; this is not zstd at all\n')]), /Not a zstd stream/);
  });

  it('refuses a frame whose blocks claim more bytes than the stream holds', async () => {
    const frame = await zstd(Buffer.from('row\n'.repeat(1000)));
    // The first block header says 0x1fffff bytes follow (raw block, not last), then the stream ends.
    const lying = Buffer.concat([frame.subarray(0, 6), Buffer.from([0xfa, 0xff, 0xff]), Buffer.alloc(100)]);
    await assert.rejects(decode([lying]), /ends in the middle of a frame/);
  });

  it('reports a skippable frame cut short as a truncated stream', async () => {
    await assert.rejects(decode([skippableHeader(1 << 20), Buffer.alloc(1000)]), /ends in the middle of a frame/);
  });

  it('drops a 4 GB skippable frame as it streams by instead of holding it, then decodes the frame after it', async () => {
    const data = Buffer.from('customer;total\n'.repeat(10_000));
    const after = await zstd(data);
    const skip = 0xffff_fff0;
    const piece = Buffer.alloc(1 << 20);
    let sent = 0;
    const rssBefore = process.memoryUsage().rss;
    let rssMost = rssBefore;
    const source = new Readable({
      read() {
        if (sent % (64 << 20) === 0) rssMost = Math.max(rssMost, process.memoryUsage().rss);
        if (sent === 0) this.push(skippableHeader(skip));
        if (sent < skip) {
          const n = Math.min(piece.length, skip - sent);
          sent += n;
          this.push(n === piece.length ? piece : piece.subarray(0, n));
        } else if (sent === skip) {
          sent++;
          this.push(after);
        } else this.push(null);
      },
    });
    const out: Buffer[] = [];
    await pipeline(source, createDecompressor('zstd'), new Writable({ write: (c, _e, cb) => (out.push(c), cb()) }));
    assert.equal(Buffer.concat(out).compare(data), 0);
    assert.ok(rssMost - rssBefore < 200 << 20, `the process grew by ${Math.round((rssMost - rssBefore) / 2 ** 20)} MB while 4 GB went by`);
  });
});
