import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, type Stats } from 'node:fs';
import { lstat, open, readdir, readlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { AppError } from '../../../../shared/errors.js';
import type { ConnectionConfig } from '../../../../shared/schemas/datasource.js';
import type { DumpResult, EngineOptions } from '../types.js';
import { filterOf } from './filter.js';
import { Pace, Turns } from './pace.js';
import { RecordedFiles } from './recorded.js';
import { END_OF_ARCHIVE, tarHeader, type TarEntry } from './tar-header.js';

/** The archive goes down the pipeline in pieces of this size: few, large writes. A big file streams in reads of this size. */
const PIECE = 1024 * 1024;
/**
 * Files up to this size are opened, read and closed with plain synchronous calls, straight into the piece being filled:
 * thousands of small files would otherwise each pay four round trips through libuv's thread pool (~130 µs a file, where
 * tar spends ~10 µs). Small enough that one file's read holds the event loop for a fraction of a millisecond.
 */
const SMALL = 256 * 1024;
/** On a slow disk, entries lstat'ed and read ahead of the one being written, so that their round trips overlap (4 MiB at most). */
const AHEAD_ON_SLOW_DISK = 16;

/** An entry lstat'ed, and a small file read, ahead of its turn. */
interface Early {
  info: Stats;
  data?: { buffer: Buffer; read: number };
}
/** Reads of a big file in flight: the next one is under way while the last one is handed down the pipeline. */
const READS_AHEAD = 2;

/** The piece being filled: headers, small files and padding are written straight into it, with no copy in between. */
class Piece {
  buffer = Buffer.allocUnsafe(PIECE);
  used = 0;

  get room() {
    return PIECE - this.used;
  }

  /** `length` bytes (at most `room`) at the end, for a read to fill. */
  claim(length: number): { buffer: Buffer; at: number } {
    const at = this.used;
    this.used += length;
    return { buffer: this.buffer, at };
  }

  put(data: Buffer) {
    data.copy(this.buffer, this.used);
    this.used += data.length;
  }

  zeros(length: number) {
    this.buffer.fill(0, this.used, this.used + length);
    this.used += length;
  }

  /** The filled part; the piece starts again on a fresh buffer. */
  take(): Buffer {
    const full = this.buffer.subarray(0, this.used);
    this.buffer = Buffer.allocUnsafe(PIECE);
    this.used = 0;
    return full;
  }
}

/** Zero bytes that bring `size` bytes of data to a whole number of 512-byte blocks. */
const padding = (size: number) => (512 - (size % 512)) % 512;

/** Reads `length` bytes at `position` into `buffer` at `at`, fewer only at the end of the file. */
function readSyncFully(fd: number, buffer: Buffer, at: number, length: number, position: number): number {
  let done = 0;
  for (let n = -1; done < length && n !== 0; done += n) n = readSync(fd, buffer, at + done, length - done, position + done);
  return done;
}

async function readFully(handle: FileHandle, buffer: Buffer, at: number, length: number, position: number): Promise<number> {
  let done = 0;
  for (let n = -1; done < length && n !== 0; done += n) n = (await handle.read(buffer, at + done, length - done, position + done)).bytesRead;
  return done;
}

/**
 * Files are opened as lstat saw them: never through a symlink put in their place since (O_NOFOLLOW), never waiting on a FIFO
 * put there (O_NONBLOCK: such an open would hold the event loop, or a pool thread, for good), and the same file (device and
 * inode), or they are skipped. Windows has neither flag nor either trap.
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

function checkSame(seen: Stats, opened: Stats) {
  if (!opened.isFile() || opened.ino !== seen.ino || opened.dev !== seen.dev) throw new Error('it was replaced during the backup');
}

async function openAsSeen(full: string, seen: Stats): Promise<FileHandle> {
  const handle = await open(full, OPEN_FLAGS);
  try {
    checkSame(seen, await handle.stat());
    return handle;
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** The folder itself gone or unreadable is a failed backup, never an empty one that "completed". */
export function unreadableFolder(source: string, e: NodeJS.ErrnoException): AppError {
  return e.code === 'ENOENT'
    ? new AppError('not_found', `Folder not found: ${source}`)
    : new AppError('connection_failed', `Cannot read the folder ${source}: ${e.message}`);
}

/**
 * Walks the folder into a tar stream (modes, mtimes, symlinks kept); unreadable files are logged and skipped.
 * The archive is written in pieces of about 1 MiB, pulled by the backup pipeline (backpressure), so memory stays at a
 * few pieces whatever the folder holds. `disk.slow` starts every folder on the pool, as a slow disk would (for the tests).
 */
export function pack(c: ConnectionConfig<'files'>, options: EngineOptions, disk: { slow?: boolean } = {}) {
  const filter = filterOf(c);
  const log: string[] = [];
  let files = 0;
  let skipped = 0;
  const recorded = new RecordedFiles();
  const skip = (rel: string, e: unknown) => {
    skipped++;
    log.push(`skipped ${rel}: ${(e as Error).message}`);
  };
  // Archived at the size lstat gave, as GNU tar does: what grew meanwhile is cut, what shrank is padded with zeros.
  const shrank = (header: TarEntry, read: number) => log.push(`${header.name} shrank by ${header.size - read} bytes during the backup; padded with zeros`);
  const piece = new Piece();
  const turns = new Turns();

  /** Room for `length` more bytes in the piece; a piece too full to take them goes down the pipeline first. */
  function* makeRoom(length: number): Generator<Buffer> {
    if (piece.room < length) yield piece.take();
  }

  /**
   * A small file into the piece: read ahead through the pool on a slow disk (`early`), else read now. lstat has just answered
   * for it, so its file system is there and the synchronous calls return at once (`lstatMs` and theirs tell the folder's
   * pace otherwise).
   */
  async function* smallFile(full: string, seen: Stats, header: TarEntry, pace: Pace, lstatMs: number, early?: Early): AsyncGenerator<Buffer> {
    const block = tarHeader(header);
    yield* makeRoom(block.length + header.size + padding(header.size));
    const started = performance.now();
    let read: number;
    try {
      if (early?.data) {
        read = early.data.read;
        early.data.buffer.copy(piece.buffer, piece.used + block.length, 0, read);
      } else {
        const fd = openSync(full, OPEN_FLAGS);
        try {
          checkSame(seen, fstatSync(fd));
          read = readSyncFully(fd, piece.buffer, piece.used + block.length, header.size, 0);
        } finally {
          closeSync(fd);
        }
        pace.record(lstatMs + performance.now() - started);
      }
    } catch (e) {
      skip(header.name, e);
      return;
    }
    piece.put(block);
    if (read < header.size) {
      shrank(header, read);
      piece.buffer.fill(0, piece.used + read, piece.used + header.size);
    }
    const data = piece.buffer.subarray(piece.used, piece.used + header.size);
    piece.used += header.size;
    piece.zeros(padding(header.size));
    files++;
    recorded.file(header.size);
    if (read === header.size) recorded.sample(files, header.name, data);
  }

  /** A big file in pieces, READS_AHEAD reads in flight, at the size lstat gave. */
  async function* bigFile(full: string, seen: Stats, header: TarEntry): AsyncGenerator<Buffer> {
    let handle: FileHandle;
    try {
      handle = await openAsSeen(full, seen);
    } catch (e) {
      skip(header.name, e);
      return;
    }
    const reads: { buffer: Buffer; at: number; length: number; position: number; read: Promise<number> }[] = [];
    /** Pieces that are full, waiting for the reads into them to finish. */
    const filled: Buffer[] = [];
    try {
      const block = tarHeader(header);
      yield* makeRoom(block.length);
      piece.put(block);
      let next = 0;
      let short = false;
      while (next < header.size || reads.length > 0) {
        while (reads.length < READS_AHEAD && next < header.size) {
          if (piece.room === 0) filled.push(piece.take());
          const length = Math.min(piece.room, header.size - next);
          const region = piece.claim(length);
          const read = short ? Promise.resolve(0) : readFully(handle, region.buffer, region.at, length, next);
          read.catch(() => undefined);
          reads.push({ ...region, length, position: next, read });
          next += length;
        }
        options.signal.throwIfAborted();
        const done = reads.shift()!;
        const read = await done.read;
        if (read < done.length) {
          if (!short) shrank(header, done.position + read);
          short = true;
          done.buffer.fill(0, done.at + read, done.at + done.length);
        }
        while (filled.length > 0 && !reads.some((r) => r.buffer === filled[0])) yield filled.shift()!;
      }
      yield* makeRoom(padding(header.size));
      piece.zeros(padding(header.size));
      files++;
      recorded.file(header.size);
    } finally {
      // Stopped early (cancelled, failed): the reads still under way finish before the file is closed.
      await Promise.allSettled(reads.map((r) => r.read));
      await handle.close();
    }
  }

  /** An entry read ahead on a slow disk: its lstat, and a small file's bytes (several in flight, as the pool allows). */
  async function loadEarly(full: string, rel: string): Promise<Early> {
    const info = await lstat(full);
    if (!info.isFile() || info.size > SMALL || !filter.include(rel)) return { info };
    const handle = await openAsSeen(full, info);
    try {
      const buffer = Buffer.allocUnsafe(info.size);
      return { info, data: { buffer, read: await readFully(handle, buffer, 0, info.size, 0) } };
    } finally {
      await handle.close();
    }
  }

  async function* walk(dir: string): AsyncGenerator<Buffer> {
    let names;
    try {
      // Code-unit order: the same archive for the same folder, without a locale's collation for every pair of names.
      names = (await readdir(dir)).sort();
    } catch (e) {
      if (dir === c.source_path) throw unreadableFolder(c.source_path, e as NodeJS.ErrnoException);
      skip(path.relative(c.source_path, dir), e);
      return;
    }
    // Names relative to the source folder, with `/` whatever the platform (tar's separator).
    const prefix = dir === c.source_path ? '' : `${path.relative(c.source_path, dir).split(path.sep).join('/')}/`;
    const rels = names.map((name) => prefix + name);
    const pace = new Pace(disk.slow);
    /** On a slow disk, the entries that follow, lstat'ed and (small files) read together through the pool. */
    const ahead = new Map<number, Promise<Early>>();
    for (let i = 0; i < names.length; i++) {
      options.signal.throwIfAborted();
      const rel = rels[i]!;
      if (filter.exclude(rel)) continue;
      const full = path.join(dir, names[i]!);
      let info: Stats;
      let early: Early | undefined;
      let lstatMs = 0;
      try {
        if (pace.slow) {
          for (let j = i; j < Math.min(i + AHEAD_ON_SLOW_DISK, names.length); j++) {
            if (ahead.has(j) || filter.exclude(rels[j]!)) continue;
            const job = loadEarly(path.join(dir, names[j]!), rels[j]!);
            job.catch(() => undefined);
            ahead.set(j, job);
          }
          early = await ahead.get(i)!;
          ahead.delete(i);
          info = early.info;
        } else {
          // readdir has just answered for this folder: its file system is there, and one lstat is one quick system call.
          const started = performance.now();
          info = lstatSync(full);
          lstatMs = performance.now() - started;
        }
      } catch (e) {
        skip(rel, e);
        continue;
      }
      const header = { name: rel, mode: info.mode & 0o7777, mtime: info.mtime, uid: info.uid, gid: info.gid, size: 0 };
      if (info.isDirectory()) {
        const block = tarHeader({ ...header, name: `${rel}/`, type: 'directory' });
        yield* makeRoom(block.length);
        piece.put(block);
        yield* walk(full);
        continue;
      }
      if (!filter.include(rel)) continue;
      if (info.isSymbolicLink()) {
        let linkname;
        try {
          linkname = await readlink(full);
        } catch (e) {
          skip(rel, e);
          continue;
        }
        const block = tarHeader({ ...header, type: 'symlink', linkname });
        yield* makeRoom(block.length);
        piece.put(block);
        files++;
      } else if (info.isFile()) {
        const file = { ...header, type: 'file' as const, size: info.size };
        if (info.size <= SMALL) {
          yield* smallFile(full, info, file, pace, lstatMs, early);
          await turns.breathe();
          continue;
        }
        yield* bigFile(full, info, file);
      }
      if (!pace.slow) pace.record(lstatMs);
      await turns.breathe();
    }
  }

  async function* archive(): AsyncGenerator<Buffer> {
    yield* walk(c.source_path);
    yield* makeRoom(END_OF_ARCHIVE.length);
    piece.put(END_OF_ARCHIVE);
    yield piece.take();
  }

  // Two pieces waiting: with a big file's next reads already under way, more would only hold memory.
  const stream = Readable.from(archive(), { objectMode: false, highWaterMark: 2 * PIECE });
  const finished = new Promise<DumpResult>((resolve, reject) => {
    stream.once('end', () => {
      for (const line of log) options.log('warn', line);
      resolve({ engine_output: [`${files} entries archived`, ...log].join('\n'), files_count: files, skipped_files: skipped, recorded: recorded.content() });
    });
    stream.once('error', reject);
    stream.once('close', () => reject(new Error('The folder backup stopped before its end')));
  });
  finished.catch(() => undefined);
  return { stream, finished };
}
