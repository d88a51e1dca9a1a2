import { constants, createReadStream } from 'node:fs';
import { access, lstat, readdir, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import picomatch from 'picomatch';
import tar from 'tar-stream';
import { AppError } from '../../../../shared/errors.js';
import type { ConnectionConfig } from '../../../../shared/schemas/datasource.js';
import { probeFailure } from '../probe.js';
import { pathTarget } from '../target.js';
import type { BackupEngine, EngineOptions } from '../types.js';
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
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const full = path.join(dir, entry.name);
    const rel = path.relative(base, full).split(path.sep).join('/');
    if (filter.exclude(rel)) continue;
    if (entry.isDirectory()) {
      const sub = await folderSize(full, filter, base);
      bytes += sub.bytes;
    } else if (entry.isFile() && filter.include(rel)) {
      bytes += (await stat(full).catch(() => ({ size: 0 }))).size;
    }
  }
  return { bytes };
}

/** Walks the folder into a tar stream (modes, mtimes, symlinks kept); unreadable files are logged and skipped. */
function pack(c: ConnectionConfig<'files'>, options: EngineOptions) {
  const filter = filterOf(c);
  const archive = tar.pack();
  const log: string[] = [];
  let files = 0;
  let skipped = 0;
  const skip = (rel: string, e: unknown) => {
    skipped++;
    log.push(`skipped ${rel}: ${(e as Error).message}`);
  };

  async function walk(dir: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      return skip(path.relative(c.source_path, dir) || '.', e);
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      options.signal.throwIfAborted();
      const full = path.join(dir, entry.name);
      const rel = path.relative(c.source_path, full).split(path.sep).join('/');
      if (filter.exclude(rel)) continue;
      let info;
      try {
        info = await lstat(full);
      } catch (e) {
        skip(rel, e);
        continue;
      }
      const header = { name: rel, mode: info.mode & 0o7777, mtime: info.mtime, uid: info.uid, gid: info.gid };
      if (info.isDirectory()) {
        await new Promise<void>((resolve, reject) => archive.entry({ ...header, name: `${rel}/`, type: 'directory' }, (e) => (e ? reject(e) : resolve())));
        await walk(full);
      } else if (info.isSymbolicLink()) {
        if (!filter.include(rel)) continue;
        const target = await readlink(full).catch((e) => void skip(rel, e));
        if (target === undefined) continue;
        await new Promise<void>((resolve, reject) => archive.entry({ ...header, type: 'symlink', linkname: target }, (e) => (e ? reject(e) : resolve())));
        files++;
      } else if (info.isFile()) {
        if (!filter.include(rel)) continue;
        let source;
        try {
          source = createReadStream(full, { start: 0, end: Math.max(0, info.size - 1) });
          await new Promise<void>((resolve, reject) => {
            source!.once('open', () => resolve());
            source!.once('error', reject);
          });
        } catch (e) {
          skip(rel, e);
          continue;
        }
        const sink = archive.entry({ ...header, type: 'file', size: info.size });
        if (info.size === 0) {
          source.destroy();
          (sink as unknown as Writable).end();
        } else {
          await pipeline(source, sink);
        }
        files++;
      }
    }
  }

  const finished = (async () => {
    try {
      await walk(c.source_path);
      archive.finalize();
      for (const line of log) options.log('warn', line);
      return { engine_output: [`${files} entries archived`, ...log].join('\n'), files_count: files, skipped_files: skipped };
    } catch (e) {
      archive.destroy(e as Error);
      throw e;
    }
  })();
  finished.catch(() => undefined);
  return { stream: archive as unknown as Readable, finished };
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
