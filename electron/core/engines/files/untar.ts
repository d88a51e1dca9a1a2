import { createReadStream, createWriteStream, lstatSync, readlinkSync } from 'node:fs';
import { chmod, lstat, lutimes, mkdir, realpath, rm, stat, symlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { AppError } from '../../../../shared/errors.js';
import type { RestoreOptions, RestoreResult } from '../types.js';

interface Header {
  name: string;
  type: string;
  linkname?: string | null;
  mode?: number;
  mtime?: Date;
}

const refuse = (name: string, why: string) => new AppError('validation_error', `Refused: the backup's entry “${name}” ${why}. Nothing was written.`);
const taken = (name: string, why: string) =>
  new AppError('conflict', `${name} ${why}: choose “Replace files that already exist” or another folder. Nothing was written.`);

/** Calls `fn` for each entry in order; whatever `fn` does not read of an entry's body is skipped. */
async function eachEntry(file: string, signal: AbortSignal, fn: (header: Header, body: AsyncIterable<unknown>) => Promise<void>): Promise<void> {
  const extract = tar.extract();
  const feeding = pipeline(createReadStream(file), extract);
  // When `fn` throws, the loop below destroys `extract` and this rejects too; `fn`'s error is the one to report.
  feeding.catch(() => undefined);
  for await (const entry of extract) {
    signal.throwIfAborted();
    await fn(entry.header as Header, entry);
    entry.resume();
  }
  await feeding;
}

/** Path → link target, as they will be when extraction reaches an entry; null: the archive puts a non-link there. */
type Links = Map<string, string | null>;

const SEP = path.sep === '\\' ? /[\\/]/ : '/';

function linkAt(p: string, links: Links): string | null {
  if (links.has(p)) return links.get(p)!;
  try {
    return lstatSync(p).isSymbolicLink() ? readlinkSync(p) : null;
  } catch {
    return null;
  }
}

/**
 * Where `rel` (relative to the folder `from`, or absolute) really leads once every symlink on the way is followed:
 * the archive's own (which may point through one another) and those already in the target folder.
 * Null for a loop. Lexical checks alone let `a/b/c -> .` plus `a/b/c/x -> ../../..` escape.
 */
function follow(from: string, rel: string, links: Links, hops = { n: 0 }): string | null {
  const root = path.isAbsolute(rel) ? path.parse(rel).root : '';
  let at = root || from;
  for (const part of rel.slice(root.length).split(SEP)) {
    if (!part || part === '.') continue;
    if (part === '..') {
      at = path.dirname(at);
      continue;
    }
    const next = path.join(at, part);
    const link = linkAt(next, links);
    if (link === null) {
      at = next;
      continue;
    }
    if (++hops.n > 40) return null;
    const resolved = follow(at, link, links, hops);
    if (resolved === null) return null;
    at = resolved;
  }
  return at;
}

/** The target folder's real path (it may not exist yet), so that paths through symlinks compare with it. */
async function realRoot(dir: string): Promise<string> {
  const absolute = path.resolve(dir);
  try {
    return await realpath(absolute);
  } catch {
    const parent = path.dirname(absolute);
    return parent === absolute ? absolute : path.join(await realRoot(parent), path.basename(absolute));
  }
}

const exists = (p: string) =>
  lstat(p).then(
    (s) => s,
    () => null,
  );

/**
 * Reads every header before anything is written: an entry with an absolute path, one that climbs out
 * of the target, one written through a symlink that leads outside, or a symlink pointing outside is
 * refused; so is an existing file, unless `overwrite`. Extraction order is simulated, so the check
 * sees the symlinks each entry will really meet.
 */
async function check(root: string, artifactPath: string, o: RestoreOptions): Promise<number> {
  const inside = (at: string | null, name: string, why: string): string => {
    if (at === null) throw refuse(name, 'goes round a loop of symlinks');
    if (at !== root && !at.startsWith(root + path.sep)) throw refuse(name, why);
    return at;
  };
  const throughLink = 'leads outside the target folder through a symlink';
  const links: Links = new Map();
  const symlinks: { name: string; at: string; linkname: string }[] = [];
  let count = 0;
  await eachEntry(artifactPath, o.signal, async (h) => {
    const name = path.posix.normalize(h.name).replace(/\/+$/, '');
    if (h.name.startsWith('/') || h.name.startsWith('\\') || /^[A-Za-z]:/.test(h.name)) throw refuse(h.name, 'is an absolute path');
    if (name === '..' || name.startsWith('../')) throw refuse(h.name, 'climbs out of the target folder (..)');
    if (h.type === 'directory') {
      const at = inside(follow(root, name, links), h.name, throughLink);
      const found = await stat(at).catch(() => null);
      if (found && !found.isDirectory()) throw taken(path.relative(root, at), 'already exists and is not a folder');
      return;
    }
    if (h.type !== 'file' && h.type !== 'symlink') return;
    const parent = inside(follow(root, path.posix.dirname(name), links), h.name, throughLink);
    if (name === '.' || name === '') throw refuse(h.name, 'is not a folder but names the target folder itself');
    const at = path.join(parent, path.posix.basename(name));
    const found = await exists(at);
    if (found?.isDirectory()) throw taken(path.relative(root, at), 'is a folder in the target and would be replaced by a file');
    if (found && !o.overwrite) throw taken(path.relative(root, at), 'already exists');
    if (h.type === 'symlink') {
      const linkname = h.linkname ?? '';
      inside(follow(parent, linkname, links), h.name, `links to ${linkname}, outside the target folder`);
      links.set(at, linkname);
      symlinks.push({ name: h.name, at, linkname });
    } else {
      links.set(at, null);
    }
    count++;
  });
  // A later symlink can change where an earlier one leads (`l -> a/b/../..`, then `a/b -> .`): each is
  // checked again as it will be once everything is extracted.
  for (const s of symlinks) {
    inside(follow(path.dirname(s.at), s.linkname, links), s.name, `links to ${s.linkname}, outside the target folder`);
  }
  return count;
}

/** Extracts a tar made by the files engine into `dir`, keeping modes, mtimes, folders and symlinks. */
export async function extractInto(dir: string, artifactPath: string, o: RestoreOptions): Promise<RestoreResult> {
  const root = await realRoot(dir);
  const count = await check(root, artifactPath, o);
  o.log('info', `${count} entries checked; extracting into ${root}`);

  await mkdir(root, { recursive: true });
  const dirs: { at: string; mode?: number; mtime?: Date }[] = [];
  const skipped: string[] = [];
  await eachEntry(artifactPath, o.signal, async (h, body) => {
    const at = path.join(root, path.posix.normalize(h.name));
    if (h.type === 'directory') {
      await mkdir(at, { recursive: true });
      dirs.push({ at, mode: h.mode, mtime: h.mtime });
      return;
    }
    if (h.type !== 'file' && h.type !== 'symlink') {
      skipped.push(`${h.name} (${h.type})`);
      return;
    }
    await mkdir(path.dirname(at), { recursive: true });
    // Removed first, so that neither a write nor a new link goes through a symlink that was there.
    if (o.overwrite) await rm(at, { force: true });
    if (h.type === 'symlink') {
      await symlink(h.linkname ?? '', at);
      if (h.mtime) await lutimes(at, h.mtime, h.mtime).catch(() => undefined);
    } else {
      await pipeline(body, createWriteStream(at, { flags: 'wx', mode: 0o600 }));
      if (h.mode !== undefined) await chmod(at, h.mode & 0o7777);
      if (h.mtime) await utimes(at, h.mtime, h.mtime);
    }
  });
  // Folders last, deepest first: writing their contents changed their times, and a read-only folder
  // could not have received them.
  for (const d of dirs.reverse()) {
    if (d.mode !== undefined) await chmod(d.at, d.mode & 0o7777).catch(() => undefined);
    if (d.mtime) await utimes(d.at, d.mtime, d.mtime).catch(() => undefined);
  }
  for (const s of skipped) o.log('warn', `Skipped ${s}: only files, folders and symlinks are restored`);
  return { engine_output: [`${count} entries extracted into ${root}`, ...skipped.map((s) => `skipped ${s}`)].join('\n'), files_count: count };
}
