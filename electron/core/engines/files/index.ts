import { constants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../../../shared/errors.js';
import { bytes, counted } from '../../../../shared/format.js';
import type { ConnectionConfig } from '../../../../shared/schemas/datasource.js';
import { probeFailure } from '../probe.js';
import { pathTarget } from '../target.js';
import type { BackupEngine } from '../types.js';
import { filterOf } from './filter.js';
import { pack, unreadableFolder } from './pack.js';
import { folderSize, folderTally } from './size.js';
import { tarIndex } from './toc.js';
import { extractInto } from './untar.js';

export const filesEngine: BackupEngine = {
  label: 'Folder',
  format: 'tar',

  async probe(config, timeoutMs) {
    const c = config as ConnectionConfig<'files'>;
    const { source_path } = c;
    const info = await stat(source_path).catch(() => null);
    if (!info) throw probeFailure('unreachable', `Folder not found: ${source_path}`);
    if (!info.isDirectory()) throw probeFailure('unreachable', `${source_path} is a file, not a folder`);
    try {
      await access(source_path, constants.R_OK | constants.X_OK);
      await readdir(source_path);
    } catch {
      throw probeFailure('error', `Cannot read the folder ${source_path}: check its permissions`);
    }
    // What a backup would take, counted for a moment at most: a test says "55 files, 8.7 MB", not a latency.
    const seconds = Math.min(2, timeoutMs / 2000);
    const t = await folderTally(source_path, filterOf(c), seconds * 1000);
    const size = `${t.complete ? '' : 'more than '}${counted(t.files, 'file')}, ${t.complete ? '' : 'at least '}${bytes(t.bytes)}`;
    return {
      metadata: { files: t.files, size_bytes: t.bytes, complete: t.complete },
      message: `Folder readable: ${size}${t.complete ? '' : ` (counted for ${seconds} s)`}`,
    };
  },

  async inspect(config, options) {
    const c = config as ConnectionConfig<'files'>;
    // The folder itself gone or unreadable is a failed backup, never an empty one that "completed".
    await readdir(c.source_path).catch((e: NodeJS.ErrnoException) => {
      throw unreadableFolder(c.source_path, e);
    });
    return { size_estimate_bytes: await folderSize(c.source_path, filterOf(c), options.signal) };
  },
  async dump(config, options) {
    return pack(config as ConnectionConfig<'files'>, options);
  },

  async restore(config, source, options) {
    return extractInto((config as ConnectionConfig<'files'>).source_path, await source.file(), options);
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
  contents: () => tarIndex(),

  async scratch({ dir }) {
    return {
      config: { source_path: path.join(dir, 'files'), include_patterns: [], exclude_patterns: [] },
      description: 'a temporary folder',
      createDatabase: false,
      drop: async () => undefined,
    };
  },
};
