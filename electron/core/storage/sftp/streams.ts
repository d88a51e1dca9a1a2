// Streams over an open SFTP file handle, with many requests in flight each way.
import { Readable, Writable } from 'node:stream';
import type { SFTPWrapper } from 'ssh2';
import { call } from './session.js';

/** Bytes per SFTP read or write request, and how many bytes may be in flight at once. */
const PIECE = 64 * 1024;
const WRITE_WINDOW = 2 * 1024 * 1024;
const READS_IN_FLIGHT = 16;

/**
 * Writes with many requests in flight: one request per round trip would make an upload over a
 * distant link crawl. At most WRITE_WINDOW bytes wait for the server, so memory stays flat.
 */
export class SftpWriter extends Writable {
  private position = 0;
  private inFlight = 0;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly sftp: SFTPWrapper,
    private readonly handle: Buffer,
  ) {
    super({ highWaterMark: PIECE * 4 });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    for (let offset = 0; offset < chunk.length; offset += PIECE) {
      const piece = chunk.subarray(offset, offset + PIECE);
      this.inFlight += piece.length;
      this.sftp.write(this.handle, piece, 0, piece.length, this.position, (error) => {
        this.inFlight -= piece.length;
        if (error) this.failure ??= error;
        this.wake?.();
      });
      this.position += piece.length;
    }
    this.whenBelow(WRITE_WINDOW, done);
  }

  override _final(done: (error?: Error | null) => void): void {
    this.whenBelow(0, (error) => {
      if (error) return done(error);
      try {
        // Durable before visible, where the server can (fsync@openssh.com).
        this.sftp.ext_openssh_fsync(this.handle, (fsyncError) => done(fsyncError ?? null));
      } catch {
        done();
      }
    });
  }

  private whenBelow(limit: number, done: (error?: Error | null) => void): void {
    if (this.failure) return done(this.failure);
    if (this.inFlight <= limit) return done();
    this.wake = () => {
      this.wake = undefined;
      this.whenBelow(limit, done);
    };
  }
}

/** Reads with several requests in flight, delivering bytes in order. */
export class SftpReader extends Readable {
  private next: number;
  private pending: { offset: number; length: number; data: Promise<Buffer> }[] = [];
  private pumping = false;

  /** Reads from `start` up to `size` (the end, exclusive). */
  constructor(
    private readonly sftp: SFTPWrapper,
    private readonly handle: Buffer,
    private readonly size: number,
    start = 0,
  ) {
    super({ highWaterMark: PIECE * READS_IN_FLIGHT });
    this.next = start;
  }

  override _read(): void {
    void this.pump();
  }

  private request(offset: number, length: number) {
    const data = call<Buffer>((done) =>
      this.sftp.read(this.handle, Buffer.allocUnsafe(length), 0, length, offset, (error, bytes, buffer) => done(error, buffer.subarray(0, bytes))),
    );
    // Awaited in order later; a failure meanwhile must not count as unhandled.
    data.catch(() => undefined);
    return { offset, length, data };
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        while (this.pending.length < READS_IN_FLIGHT && this.next < this.size) {
          const length = Math.min(PIECE, this.size - this.next);
          this.pending.push(this.request(this.next, length));
          this.next += length;
        }
        const head = this.pending[0];
        if (!head) {
          this.push(null);
          return;
        }
        const data = await head.data;
        if (this.destroyed) return;
        if (data.length === 0) throw new Error(`the file ended at byte ${head.offset} of ${this.size}`);
        this.pending.shift();
        // A short read leaves a gap: ask for the rest before anything later is delivered.
        if (data.length < head.length) this.pending.unshift(this.request(head.offset + data.length, head.length - data.length));
        if (!this.push(data)) return;
      }
    } catch (error) {
      this.destroy(error as Error);
    } finally {
      this.pumping = false;
    }
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    try {
      this.sftp.close(this.handle, () => done(error));
    } catch {
      done(error);
    }
  }
}
