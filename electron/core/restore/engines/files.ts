import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, lstat, mkdir, readdir, rm, symlink, utimes, lutimes } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { AppError } from '../../../../shared/errors.js';
import type { ConnectionConfig } from '../../../../shared/schemas/datasource.js';
import type { Restorer } from './types.js';

interface Entry {
  name: string;
  type: string;
  linkname?: string | null;
  mode?: number;
  mtime?: Date;
}

const refuse = (name: string, why: string) => new AppError('validation_error', `Refused: the backup's entry “${name}” ${why}. Nothing was written.`);

/** The entry's path inside the target, or a refusal when it would land outside it. */
function inside(root: string, entry: Entry): string {
  const name = entry.name.replace(/\/+$/, '');
  if (path.posix.isAbsolute(name) || /^[A-Za-z]:/.test(name)) throw refuse(entry.name, 'is an absolute path');
  const dest = path.resolve(root, name);
  const within = (p: string) => p === root || p.startsWith(root + path.sep);
  if (!within(dest)) throw refuse(entry.name, 'points outside the target folder');
  if ((entry.type === 'symlink' || entry.type === 'link') && entry.linkname) {
    const to = path.isAbsolute(entry.linkname) ? entry.linkname : path.resolve(path.dirname(dest), entry.linkname);
    if (!within(to)) throw refuse(entry.name, `links to ${entry.linkname}, outside the target folder`);
  }
  return dest;
}

async function* entries(file: string) {
  const extract = tar.extract();
  const feeding = pipeline(createReadStream(file), extract);
  for await (const entry of extract) yield entry;
  await feeding;
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

export const filesRestorer: Restorer = {
  async restore(config, artifactPath, o) {
    const root = path.resolve((config as ConnectionConfig<'files'>).source_path);
    // First pass: every entry is checked before anything is written, so a bad archive writes nothing.
    let count = 0;
    for await (const entry of entries(artifactPath)) {
      const dest = inside(root, entry.header as Entry);
      if (!o.overwrite && entry.header.type !== 'directory' && (await exists(dest))) {
        entry.resume();
        throw new AppError('conflict', `${path.relative(root, dest)} already exists in ${root}: choose “Replace files that already exist” or another folder. Nothing was written.`);
      }
      if (entry.header.type === 'file') count++;
      entry.resume();
    }
    o.log('info', `${count} file(s) checked; extracting into ${root}`);

    await mkdir(root, { recursive: true });
    const dirs: { dest: string; mode?: number; mtime?: Date }[] = [];
    for await (const entry of entries(artifactPath)) {
      o.signal.throwIfAborted();
      const h = entry.header as Entry;
      const dest = inside(root, h);
      if (h.type === 'directory') {
        await mkdir(dest, { recursive: true });
        dirs.push({ dest, mode: h.mode, mtime: h.mtime });
        entry.resume();
        continue;
      }
      await mkdir(path.dirname(dest), { recursive: true });
      if (o.overwrite) await rm(dest, { force: true, recursive: false }).catch(() => undefined);
      if (h.type === 'symlink' && h.linkname) {
        await symlink(h.linkname, dest);
        if (h.mtime) await lutimes(dest, h.mtime, h.mtime).catch(() => undefined);
        entry.resume();
      } else if (h.type === 'file') {
        await pipeline(entry, createWriteStream(dest, { mode: h.mode ?? 0o644 }));
        if (h.mode !== undefined) await chmod(dest, h.mode);
        if (h.mtime) await utimes(dest, h.mtime, h.mtime);
      } else {
        o.log('warn', `Skipped ${h.name}: ${h.type} entries are not restored`);
        entry.resume();
      }
    }
    // Directory times last: writing their contents changed them.
    for (const d of dirs.reverse()) {
      if (d.mode !== undefined) await chmod(d.dest, d.mode).catch(() => undefined);
      if (d.mtime) await utimes(d.dest, d.mtime, d.mtime).catch(() => undefined);
    }
    return { engine_output: `${count} file(s) extracted into ${root}`, files_count: count };
  },

  async summarize(config) {
    const root = (config as ConnectionConfig<'files'>).source_path;
    const all = await readdir(root, { recursive: true, withFileTypes: true });
    return { tables: 0, rows: all.filter((d) => d.isFile()).length };
  },
};
