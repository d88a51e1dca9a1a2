import { constants } from 'node:fs';
import { access, lstat, open, readdir, readlink, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import picomatch from 'picomatch';
import { AppError } from '../../../../shared/errors.js';
import type { ConnectionConfig } from '../../../../shared/schemas/datasource.js';
import { probeFailure } from '../probe.js';
import { pathTarget } from '../target.js';
import type { BackupEngine, DumpResult, EngineOptions } from '../types.js';
import { END_OF_ARCHIVE, paddingAfter, tarHeader, type TarEntry } from './tar-header.js';
import { extractInto } from './untar.js';

interface Filter {
  include: (rel: string) => boolean;
  exclude: (rel: string) => boolean;
}

// `*.jpg` matches at any depth (basename); `temp/*` matches a path from the source folder.
function filterOf(c: ConnectionConfig<'files'>): Filter {
  const opts = { dot: true, basename: true };
  const excludeGlob = c.exclude_patterns.length ? picomatch(c.exclude_patterns, opts) : () => false;
  const dirExclude = c.exclude_patterns.length
    ? picomatch(
        c.exclude_patterns.map((p) => p.replace(/\/\*+$/, '')),
        opts,
      )
    : () => false;
  return {
    include: c.include_patterns.length ? picomatch(c.include_patterns, opts) : () => true,
    exclude: (rel) => excludeGlob(rel) || dirExclude(rel),
  };
}

async function folderSize(dir: string, filter: Filter, base = dir): Promise<{ bytes: number }> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  // A folder's entries are stat'ed together: thousands of small files would otherwise wait on each other.
  const sizes = await Promise.all(
    entries.map(async (entry) => {
      const full = path.join(dir, entry.name);
      const rel = path.relative(base, full).split(path.sep).join('/');
      if (filter.exclude(rel)) return 0;
      if (entry.isDirectory()) return (await folderSize(full, filter, base)).bytes;
      if (entry.isFile() && filter.include(rel)) return (await stat(full).catch(() => ({ size: 0 }))).size;
      return 0;
    }),
  );
  return { bytes: sizes.reduce((a, b) => a + b, 0) };
}

/** Files up to this size are read whole, several at once; bigger ones stream in pieces of this size. */
const PIECE = 1024 * 1024;
/** Entries of a folder being stat'ed and read ahead of the one being written, so small files do not wait on each other. */
const READ_AHEAD = 16;

type Loaded =
  | { kind: 'skip' }
  | { kind: 'directory'; header: TarEntry; full: string }
  | { kind: 'symlink'; header: TarEntry }
  | { kind: 'file'; header: TarEntry; data: Buffer }
  | { kind: 'large'; header: TarEntry; handle: FileHandle };

/**
 * Walks the folder into a tar stream (modes, mtimes, symlinks kept); unreadable files are logged and skipped.
 * Small files are read whole with a few reads in flight; the archive is written in pieces of about 1 MiB, pulled by the backup
 * pipeline (backpressure), so memory stays at a few pieces whatever the folder holds.
 */
function pack(c: ConnectionConfig<'files'>, options: EngineOptions) {
  const filter = filterOf(c);
  const log: string[] = [];
  let files = 0;
  let skipped = 0;
  const skip = (rel: string, e: unknown): Loaded => {
    skipped++;
    log.push(`skipped ${rel}: ${(e as Error).message}`);
    return { kind: 'skip' };
  };
  // Archived at the size lstat gave, as GNU tar does: what grew meanwhile is cut, what shrank is padded with zeros.
  const shrank = (header: TarEntry, read: number) => log.push(`${header.name} shrank by ${header.size - read} bytes during the backup; padded with zeros`);

  async function load(dir: string, name: string): Promise<Loaded> {
    const full = path.join(dir, name);
    const rel = path.relative(c.source_path, full).split(path.sep).join('/');
    if (filter.exclude(rel)) return { kind: 'skip' };
    let info;
    try {
      info = await lstat(full);
    } catch (e) {
      return skip(rel, e);
    }
    const header = { name: rel, mode: info.mode & 0o7777, mtime: info.mtime, uid: info.uid, gid: info.gid, size: 0 };
    if (info.isDirectory()) return { kind: 'directory', header: { ...header, name: `${rel}/`, type: 'directory' }, full };
    if (!filter.include(rel)) return { kind: 'skip' };
    if (info.isSymbolicLink()) {
      try {
        return { kind: 'symlink', header: { ...header, type: 'symlink', linkname: await readlink(full) } };
      } catch (e) {
        return skip(rel, e);
      }
    }
    if (!info.isFile()) return { kind: 'skip' };
    const file = { ...header, type: 'file' as const, size: info.size };
    let handle: FileHandle;
    try {
      handle = await open(full, 'r');
    } catch (e) {
      return skip(rel, e);
    }
    if (info.size > PIECE) return { kind: 'large', header: file, handle };
    try {
      const data = Buffer.allocUnsafe(info.size);
      const { bytesRead } = await handle.read(data, 0, info.size, 0);
      if (bytesRead < info.size) {
        shrank(file, bytesRead);
        data.fill(0, bytesRead);
      }
      return { kind: 'file', header: file, data };
    } catch (e) {
      return skip(rel, e);
    } finally {
      await handle.close();
    }
  }

  /** Streams a big file in pieces, at the size lstat gave. */
  async function* largeFile(header: TarEntry, handle: FileHandle): AsyncGenerator<Buffer> {
    try {
      yield tarHeader(header);
      let done = 0;
      let short = false;
      while (done < header.size) {
        options.signal.throwIfAborted();
        const piece = Buffer.allocUnsafe(Math.min(PIECE, header.size - done));
        const bytesRead = short ? 0 : (await handle.read(piece, 0, piece.length, done)).bytesRead;
        if (bytesRead < piece.length) {
          if (!short) shrank(header, done + bytesRead);
          short = true;
          piece.fill(0, bytesRead);
        }
        done += piece.length;
        yield piece;
      }
      yield paddingAfter(header.size);
    } finally {
      await handle.close();
    }
  }

  async function* walk(dir: string): AsyncGenerator<Buffer> {
    let names;
    try {
      names = (await readdir(dir)).sort((a, b) => a.localeCompare(b));
    } catch (e) {
      skip(path.relative(c.source_path, dir) || '.', e);
      return;
    }
    const ahead: Promise<Loaded>[] = [];
    let next = 0;
    const fill = () => {
      while (ahead.length < READ_AHEAD && next < names.length) {
        const job = load(dir, names[next++]!);
        job.catch(() => undefined);
        ahead.push(job);
      }
    };
    try {
      for (fill(); ahead.length > 0; fill()) {
        options.signal.throwIfAborted();
        const entry = await ahead.shift()!;
        if (entry.kind === 'skip') continue;
        if (entry.kind === 'large') yield* largeFile(entry.header, entry.handle);
        else yield tarHeader(entry.header);
        if (entry.kind === 'directory') yield* walk(entry.full);
        else if (entry.kind === 'file') {
          yield entry.data;
          yield paddingAfter(entry.data.length);
        }
        if (entry.kind !== 'directory') files++;
      }
    } finally {
      // Stopped early (cancelled, failed): files opened ahead are closed.
      for (const job of ahead) void job.then((e) => (e.kind === 'large' ? e.handle.close() : undefined)).catch(() => undefined);
    }
  }

  /** Joins the many small buffers of small files into pieces of about 1 MiB: fewer, larger writes down the pipeline. */
  async function* archive(): AsyncGenerator<Buffer> {
    let batch: Buffer[] = [];
    let batched = 0;
    for await (const buf of walk(c.source_path)) {
      if (buf.length >= PIECE && batched === 0) {
        yield buf;
        continue;
      }
      batch.push(buf);
      batched += buf.length;
      if (batched >= PIECE) {
        yield Buffer.concat(batch, batched);
        batch = [];
        batched = 0;
      }
    }
    batch.push(END_OF_ARCHIVE);
    yield Buffer.concat(batch);
  }

  const stream = Readable.from(archive(), { objectMode: false, highWaterMark: 4 * PIECE });
  const finished = new Promise<DumpResult>((resolve, reject) => {
    stream.once('end', () => {
      for (const line of log) options.log('warn', line);
      resolve({ engine_output: [`${files} entries archived`, ...log].join('\n'), files_count: files, skipped_files: skipped });
    });
    stream.once('error', reject);
    stream.once('close', () => reject(new Error('The folder backup stopped before its end')));
  });
  finished.catch(() => undefined);
  return { stream, finished };
}

export const filesEngine: BackupEngine = {
  label: 'Folder',
  format: 'tar',

  async probe(config) {
    const { source_path } = config as ConnectionConfig<'files'>;
    const info = await stat(source_path).catch(() => null);
    if (!info) throw probeFailure('unreachable', `Folder not found: ${source_path}`);
    if (!info.isDirectory()) throw probeFailure('unreachable', `${source_path} is a file, not a folder`);
    try {
      await access(source_path, constants.R_OK | constants.X_OK);
      return { metadata: { entries: (await readdir(source_path)).length } };
    } catch {
      throw probeFailure('error', `Cannot read the folder ${source_path}: check its permissions`);
    }
  },

  async inspect(config) {
    const c = config as ConnectionConfig<'files'>;
    // The folder itself gone or unreadable is a failed backup, never an empty one that "completed".
    await readdir(c.source_path).catch((e: NodeJS.ErrnoException) => {
      throw e.code === 'ENOENT'
        ? new AppError('not_found', `Folder not found: ${c.source_path}`)
        : new AppError('connection_failed', `Cannot read the folder ${c.source_path}: ${e.message}`);
    });
    const { bytes } = await folderSize(c.source_path, filterOf(c));
    return { size_estimate_bytes: bytes };
  },
  async dump(config, options) {
    return pack(config as ConnectionConfig<'files'>, options);
  },

  async restore(config, artifactPath, options) {
    return extractInto((config as ConnectionConfig<'files'>).source_path, artifactPath, options);
  },
  async summarize(config, { signal }) {
    const { source_path } = config as ConnectionConfig<'files'>;
    const all = await readdir(source_path, { recursive: true, withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
      throw e.code === 'ENOENT' ? new AppError('not_found', `Folder not found: ${source_path}`) : e;
    });
    signal.throwIfAborted();
    return { tables: 0, rows: all.filter((d) => d.isFile()).length };
  },

  target: (config, _name, request) => pathTarget(config, 'source_path', request),

  async scratch({ dir }) {
    return {
      config: { source_path: path.join(dir, 'files'), include_patterns: [], exclude_patterns: [] },
      description: 'a temporary folder',
      createDatabase: false,
      drop: async () => undefined,
    };
  },
};
