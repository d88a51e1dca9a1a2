import { PassThrough, Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { decompress as zstdDecompress } from '@mongodb-js/zstd';
// The binding itself: the package's wrapper (1.2.x) drops the level, so every backup was zstd -3 whatever the job said.
import { compress as zstdCompress } from '@mongodb-js/zstd/bindings.js';
import lz4 from 'lz4';
import { promisify } from 'node:util';
import type { Compression } from '../../../shared/schemas/enums.js';

/** The size of one independently compressed frame: big enough that the per-frame header and restart cost nothing, small enough for memory. */
const FRAME_BYTES = 4 * 1024 * 1024;
/** Frames being compressed at once on libuv's pool (four threads): both cores busy, and two threads left for the file reads and writes of the same backup. */
const FRAMES_IN_FLIGHT = 2;

const gzipFrame = promisify(zlib.gzip);

/**
 * An LZ4 frame header: magic, FLG (version 1, independent blocks, no checksums), BD (blocks up to 4 MiB) and the
 * header checksum, a constant for these flags. No content checksum: the `lz4` package's decoder (used to restore)
 * checks one across concatenated frames and refuses them; the SHA-256 of every part and of the file guard the data.
 */
const LZ4_FRAME_HEADER = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x70, 0x73]);
const LZ4_END_MARK = Buffer.alloc(4);
const LZ4_UNCOMPRESSED = 0x80000000;
/** Where a frame's block data starts: the header, then the block's 4-byte size. */
const LZ4_DATA_AT = LZ4_FRAME_HEADER.length + 4;

/**
 * Block by block into LZ4 frames with the `lz4` package's native encoder (the C library the `lz4` CLI uses, the same
 * bytes out), synchronously, into one scratch buffer: about 5 ms a 4 MiB block here, faster than handing the block to
 * a pool thread and back. Measured against lz4-napi's pool encoder on 512 MB of a dump: 0.62 s against 1.0 s, and none
 * of the memory its allocator kept. Levels above 2 are LZ4 HC at its level 9 (`lz4 -9`): the binding takes no level.
 */
function lz4Frames(level: number): (block: Buffer) => Promise<Buffer> {
  let scratch = Buffer.alloc(0);
  return async (block) => {
    // An empty frame is the header and the end mark alone.
    if (block.length === 0) return Buffer.concat([LZ4_FRAME_HEADER, LZ4_END_MARK]);
    const bound = LZ4_DATA_AT + lz4.encodeBound(block.length) + LZ4_END_MARK.length;
    if (scratch.length < bound) scratch = Buffer.allocUnsafe(bound);
    LZ4_FRAME_HEADER.copy(scratch);
    const data = scratch.subarray(LZ4_DATA_AT, bound - LZ4_END_MARK.length);
    const packed = level > 2 ? lz4.encodeBlockHC(block, data) : lz4.encodeBlock(block, data, 0, data.length);
    let size = packed;
    // A block that does not shrink is stored as it is, as the format allows.
    if (packed === 0 || packed >= block.length) {
      block.copy(scratch, LZ4_DATA_AT);
      size = block.length;
      scratch.writeUInt32LE((block.length | LZ4_UNCOMPRESSED) >>> 0, LZ4_FRAME_HEADER.length);
    } else scratch.writeUInt32LE(packed, LZ4_FRAME_HEADER.length);
    LZ4_END_MARK.copy(scratch, LZ4_DATA_AT + size);
    // Copied out of the scratch buffer: the stream holds it until the storage has written it.
    return Buffer.from(scratch.subarray(0, LZ4_DATA_AT + size + LZ4_END_MARK.length));
  };
}

/**
 * Compression while the source streams: the stream is cut into 4 MiB blocks, each compressed as an independent
 * frame, results emitted in order. gzip and zstd frames are compressed on libuv's thread pool, two at once (both
 * cores busy); lz4 frames on the spot (see lz4Frames). `gzip -d`, `zstd -d` and `lz4 -d` read concatenated frames
 * as one file. At most two blocks are in flight, so memory stays at a few blocks whatever the size of the backup.
 */
class Frames extends Transform {
  /** Blocks whose compression has ended, reused: fresh 4 MiB buffers per frame pile up faster than the garbage collector frees them. */
  private spare: Buffer[] = [];
  private block: Buffer = Buffer.allocUnsafe(FRAME_BYTES);
  private filled = 0;
  private inFlight: Promise<Buffer>[] = [];
  /** The uncompressed size of each frame in flight, for the frame map. */
  private rawSizes: number[] = [];
  private frames = 0;

  constructor(
    private readonly compressFrame: (block: Buffer) => Promise<Buffer>,
    private readonly onFrame?: (rawBytes: number, frame: Buffer) => void,
  ) {
    super({ readableHighWaterMark: FRAME_BYTES });
  }

  private startFrame() {
    const block = this.block;
    const job = this.compressFrame(block.subarray(0, this.filled)).then((frame) => {
      this.spare.push(block);
      return frame;
    });
    // Awaited in order below; a failure after the stream was destroyed has no one left to tell.
    job.catch(() => undefined);
    this.inFlight.push(job);
    this.rawSizes.push(this.filled);
    this.frames++;
    this.block = this.spare.pop() ?? Buffer.allocUnsafe(FRAME_BYTES);
    this.filled = 0;
  }

  private async emitUntil(limit: number) {
    while (this.inFlight.length > limit) {
      const frame = await this.inFlight.shift()!;
      this.onFrame?.(this.rawSizes.shift()!, frame);
      this.push(frame);
    }
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
    let at = 0;
    let started = false;
    while (at < chunk.length) {
      const n = chunk.copy(this.block, this.filled, at);
      this.filled += n;
      at += n;
      if (this.filled === FRAME_BYTES) {
        this.startFrame();
        started = true;
      }
    }
    if (!started || this.inFlight.length < FRAMES_IN_FLIGHT) return done();
    this.emitUntil(FRAMES_IN_FLIGHT - 1).then(() => done(), done);
  }

  override _flush(done: TransformCallback) {
    // An empty source still gets one (empty) frame: `gzip -d` refuses a zero-byte file.
    if (this.filled > 0 || this.frames === 0) this.startFrame();
    this.emitUntil(0).then(() => done(), done);
  }
}

/** Gunzip's output pieces: each costs a trip through the streams to the staging file. On a 1 GB restore 256 KiB took a third less CPU than zlib's 16 KiB, and 1 MiB no less. */
const GUNZIP_PIECE = 256 * 1024;

const ZSTD_MAGIC = 0xfd2fb528;
/** Frames decoded at once on libuv's pool (four threads): both cores busy, one thread left for the staging file's writes. */
const FRAMES_DECODING = 2;

/**
 * Cuts a zstd stream into whole frames as its bytes arrive. The bytes of a frame are copied once, when it is
 * whole: gluing each new chunk to the ones before would copy a big frame many times. Skippable frames (metadata
 * no decoder reads) are dropped as they arrive, whatever size they claim.
 */
class FrameCutter {
  private chunks: Buffer[] = [];
  /** Bytes held in `chunks`; the current frame starts at 0. */
  private bytes = 0;
  /** Where the next header to read starts (0: the frame's own), and where the frame ends once known (-1 before). */
  private next = 0;
  private end = -1;
  private trailer = 0;
  /** What is left of a skippable frame. */
  private skipping = 0;
  /** The chunk holding offset `cursorAt`, so that reading headers forward does not walk every chunk again. */
  private cursor = 0;
  private cursorAt = 0;

  add(chunk: Buffer) {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  /** Whether the stream stopped inside a frame. */
  get cutShort(): boolean {
    return this.bytes > 0 || this.skipping > 0;
  }

  /** `n` bytes (a header: a few) at `offset` of the current frame, which the caller knows have arrived. */
  private read(offset: number, n: number): Buffer {
    while (offset >= this.cursorAt + this.chunks[this.cursor]!.length) this.cursorAt += this.chunks[this.cursor++]!.length;
    const from = offset - this.cursorAt;
    const chunk = this.chunks[this.cursor]!;
    if (from + n <= chunk.length) return chunk.subarray(from, from + n);
    return Buffer.concat([chunk.subarray(from), ...this.chunks.slice(this.cursor + 1, this.cursor + n + 1)], n);
  }

  /** The next whole zstd frame, or null while the rest of it has not arrived. */
  take(): Buffer | null {
    for (;;) {
      if (this.skipping) {
        const n = Math.min(this.skipping, this.bytes);
        this.skipping -= n;
        this.shift(n, false);
        if (this.skipping) return null;
      }
      if (this.end < 0 && this.next === 0) {
        if (this.bytes < 8) return null;
        const magic = this.read(0, 4).readUInt32LE(0);
        if ((magic & 0xfffffff0) === 0x184d2a50) {
          this.skipping = 8 + this.read(4, 4).readUInt32LE(0);
          continue;
        }
        if (magic !== ZSTD_MAGIC) throw new Error('Not a zstd stream (bad frame magic)');
        const fhd = this.read(4, 1)[0]!;
        const singleSegment = (fhd >> 5) & 1;
        this.trailer = (fhd >> 2) & 1 ? 4 : 0;
        this.next = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][fhd & 3]! + [singleSegment ? 1 : 0, 2, 4, 8][fhd >> 6]!;
      }
      while (this.end < 0) {
        if (this.bytes < this.next + 3) return null;
        const header = this.read(this.next, 3).readUIntLE(0, 3);
        const type = (header >> 1) & 3;
        this.next += 3 + (type === 1 ? 1 : header >> 3);
        if (header & 1) this.end = this.next + this.trailer;
      }
      return this.bytes < this.end ? null : this.shift(this.end, true)!;
    }
  }

  /** Takes the first `n` bytes out (copied into one buffer when `keep` and they span chunks); the next frame starts after them. */
  private shift(n: number, keep: boolean): Buffer | null {
    const first = this.chunks[0];
    let taken: Buffer | null = null;
    if (first && n <= first.length) {
      if (keep) taken = first.subarray(0, n);
      if (n === first.length) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      if (keep) taken = Buffer.allocUnsafe(n);
      for (let at = 0; at < n;) {
        const chunk = this.chunks[0]!;
        const m = Math.min(chunk.length, n - at);
        if (taken) chunk.copy(taken, at, 0, m);
        at += m;
        if (m === chunk.length) this.chunks.shift();
        else this.chunks[0] = chunk.subarray(m);
      }
    }
    this.bytes -= n;
    this.next = 0;
    this.end = -1;
    this.cursor = 0;
    this.cursorAt = 0;
    return taken;
  }
}

/**
 * Decodes frame by frame, two at once on the pool, emitted in order; memory holds a few frames (4 MiB each
 * for ours; a CLI-made single-frame file is held whole).
 */
class ZstdFrameReader extends Transform {
  private cutter = new FrameCutter();
  private decoding: Promise<Buffer>[] = [];
  /** Set while a decoded frame waits for the reader to take the ones before it. */
  private wanted: (() => void) | undefined;

  constructor() {
    super({ readableHighWaterMark: FRAME_BYTES });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
    this.cutter.add(chunk);
    // Frames still decoding stay in flight while the next input arrives.
    this.decodeReady(FRAMES_DECODING - 1).then(() => done(), done);
  }

  private async decodeReady(keep: number) {
    for (let frame = this.cutter.take(); frame; frame = this.cutter.take()) {
      await this.emitUntil(FRAMES_DECODING - 1);
      const job = zstdDecompress(frame);
      // Awaited in order below; a failure after the stream was destroyed has no one left to tell.
      job.catch(() => undefined);
      this.decoding.push(job);
    }
    await this.emitUntil(keep);
  }

  private async emitUntil(limit: number) {
    while (this.decoding.length > limit) {
      const data = await this.decoding.shift()!;
      if (!this.push(data) && !this.destroyed) await new Promise<void>((resolve) => (this.wanted = resolve));
    }
  }

  override _read(size: number) {
    const wanted = this.wanted;
    this.wanted = undefined;
    wanted?.();
    super._read(size);
  }

  override _flush(done: TransformCallback) {
    this.decodeReady(0).then(() => done(this.cutter.cutShort ? new Error('The zstd stream ends in the middle of a frame: the file is truncated') : null), done);
  }
}

/**
 * A compressor writing the standard format for `kind` (.gz, .zst, .lz4), or a pass-through for none.
 * `onFrame` sees each frame, with its uncompressed size, in order (a backup's frame map).
 */
export function createCompressor(kind: Compression, level?: number, onFrame?: (rawBytes: number, frame: Buffer) => void): Transform {
  switch (kind) {
    case 'gzip':
      return new Frames((block) => gzipFrame(block, { level: level ?? 6 }), onFrame);
    case 'zstd':
      return new Frames((block) => zstdCompress(block, level ?? 3), onFrame);
    case 'lz4':
      return new Frames(lz4Frames(level ?? 1), onFrame);
    case 'none':
      return new PassThrough();
  }
}

export function createDecompressor(kind: Compression): Transform {
  switch (kind) {
    case 'gzip':
      return zlib.createGunzip({ chunkSize: GUNZIP_PIECE });
    case 'zstd':
      return new ZstdFrameReader();
    case 'lz4':
      return lz4.createDecoderStream() as Transform;
    case 'none':
      return new PassThrough();
  }
}
