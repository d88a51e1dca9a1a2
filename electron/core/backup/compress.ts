import { PassThrough, Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { compress as zstdCompress, decompress as zstdDecompress } from '@mongodb-js/zstd';
import lz4 from 'lz4';
import type { Compression } from '../../../shared/schemas/enums.js';

const ZSTD_BLOCK = 4 * 1024 * 1024;
const ZSTD_IN_FLIGHT = 2;

/**
 * zstd through a buffer-only binding: the stream is cut into 4 MiB blocks, each compressed as an
 * independent frame (`zstd -d` reads concatenated frames as one file). Two blocks are compressed at
 * once on libuv's pool, results emitted in order, so memory stays at a few blocks.
 */
class ZstdFrames extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private inFlight: Promise<Buffer>[] = [];

  constructor(private readonly level: number) {
    super();
  }

  private startBlock() {
    const block = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    const job = zstdCompress(block, this.level);
    job.catch(() => undefined);
    this.inFlight.push(job);
  }

  private async drainTo(limit: number) {
    while (this.inFlight.length > limit) this.push(await this.inFlight.shift()!);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < ZSTD_BLOCK) return done();
    this.startBlock();
    this.drainTo(ZSTD_IN_FLIGHT - 1).then(() => done(), done);
  }

  override _flush(done: TransformCallback) {
    if (this.pendingBytes > 0) this.startBlock();
    this.drainTo(0).then(() => done(), done);
  }
}

const ZSTD_MAGIC = 0xfd2fb528;

/** Where the zstd frame (or skippable frame) starting at `at` ends, or -1 when `buf` does not hold all of it yet. */
function frameEnd(buf: Buffer, at: number): number {
  if (buf.length < at + 8) return -1;
  const magic = buf.readUInt32LE(at);
  if ((magic & 0xfffffff0) === 0x184d2a50) return at + 8 + buf.readUInt32LE(at + 4);
  if (magic !== ZSTD_MAGIC) throw new Error('Not a zstd stream (bad frame magic)');
  const fhd = buf[at + 4]!;
  const singleSegment = (fhd >> 5) & 1;
  const checksum = (fhd >> 2) & 1;
  const dictIdSize = [0, 1, 2, 4][fhd & 3]!;
  const fcsSize = [singleSegment ? 1 : 0, 2, 4, 8][fhd >> 6]!;
  let pos = at + 5 + (singleSegment ? 0 : 1) + dictIdSize + fcsSize;
  for (;;) {
    if (buf.length < pos + 3) return -1;
    const header = buf.readUIntLE(pos, 3);
    const last = header & 1;
    const type = (header >> 1) & 3;
    const size = header >> 3;
    pos += 3 + (type === 1 ? 1 : size);
    if (last) break;
  }
  pos += checksum ? 4 : 0;
  return buf.length >= pos ? pos : -1;
}

/** Decodes frame by frame; memory holds one frame (4 MiB for ours; a CLI-made single-frame file is held whole). */
class ZstdFrameReader extends Transform {
  private buffer: Buffer = Buffer.alloc(0);

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    this.decodeReady().then(() => done(), done);
  }

  private async decodeReady() {
    for (;;) {
      const end = frameEnd(this.buffer, 0);
      if (end < 0) return;
      const frame = this.buffer.subarray(0, end);
      this.buffer = this.buffer.subarray(end);
      if (frame.readUInt32LE(0) === ZSTD_MAGIC) this.push(await zstdDecompress(Buffer.from(frame)));
    }
  }

  override _flush(done: TransformCallback) {
    this.decodeReady().then(() => done(this.buffer.length ? new Error('The zstd stream ends in the middle of a frame: the file is truncated') : null), done);
  }
}

/** A compressor writing the standard format for `kind` (.gz, .zst, .lz4), or a pass-through for none. */
export function createCompressor(kind: Compression, level?: number): Transform {
  switch (kind) {
    case 'gzip':
      return zlib.createGzip({ level: level ?? 6 });
    case 'zstd':
      return new ZstdFrames(level ?? 3);
    case 'lz4':
      return lz4.createEncoderStream({ blockMaxSize: 4 << 20, highCompression: (level ?? 1) > 3, blockChecksum: false, streamChecksum: true }) as Transform;
    case 'none':
      return new PassThrough();
  }
}

export function createDecompressor(kind: Compression): Transform {
  switch (kind) {
    case 'gzip':
      return zlib.createGunzip();
    case 'zstd':
      return new ZstdFrameReader();
    case 'lz4':
      return lz4.createDecoderStream() as Transform;
    case 'none':
      return new PassThrough();
  }
}
