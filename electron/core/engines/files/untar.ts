import { createReadStream, createWriteStream, lstatSync, readlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { chmod, lstat, lutimes, mkdir, open, realpath, rm, stat, symlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
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
  const { default: tar } = await import('tar-stream');
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

/**
 * What extraction will have made of each path by the time it reaches an entry. Paths are keyed by
 * `fold`: on a case-insensitive file system `a/X` and `A/x` are one file, so one key.
 */
interface Links {
  /** Folded path → link target; null: the archive puts a non-link there. */
  targets: Map<string, string | null>;
  fold: (p: string) => string;
}

/**
 * Read, write and execute only: a setuid or setgid bit restored from a backup would hand whoever
 * made the archive a program that runs as the restoring user (often root on a server); sticky is
 * dropped too, as nothing in a restored tree needs it.
 */
const PERMISSIONS = 0o777;

const SEP = path.sep === '\\' ? /[\\/]/ : '/';

function linkAt(p: string, links: Links): string | null {
  const key = links.fold(p);
  if (links.targets.has(key)) return links.targets.get(key)!;
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

/**
 * Whether names differing only in case are one file in `dir`'s file system (macOS and Windows by
 * default, a FAT or SMB mount on Linux): a probe file is created there under a lowercase name and
 * looked up under the uppercase one. The target may not exist yet: its nearest existing folder is
 * on the same disk in all but the rarest of mounts.
 */
export async function caseInsensitive(dir: string): Promise<boolean> {
  let at = dir;
  while (!(await stat(at).catch(() => null))?.isDirectory()) {
    const up = path.dirname(at);
    if (up === at) break;
    at = up;
  }
  const name = `.dg-case-probe-${randomBytes(6).toString('hex')}`;
  const probe = path.join(at, name);
  try {
    await (await open(probe, 'wx', 0o600)).close();
  } catch {
    // A folder we cannot write to is restored into with an error later; until then, assume what the OS usually has.
    return process.platform === 'darwin' || process.platform === 'win32';
  }
  try {
    const [lower, upper] = await Promise.all([stat(probe), stat(path.join(at, name.toUpperCase())).catch(() => null)]);
    return upper !== null && upper.ino === lower.ino && upper.dev === lower.dev;
  } finally {
    await rm(probe, { force: true });
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
 * refused; so is an existing file, unless `overwrite`, and an entry landing where an earlier one
 * already put something (the same name, or on a case-insensitive file system the same name in
 * another case). Extraction order is simulated, so the check sees the symlinks each entry will
 * really meet.
 */
async function check(root: string, artifactPath: string, o: RestoreOptions, insensitive: boolean): Promise<number> {
  const fold = insensitive ? (p: string) => p.normalize('NFC').toLowerCase() : (p: string) => p;
  const foldedRoot = fold(root);
  const inside = (at: string | null, name: string, why: string): string => {
    if (at === null) throw refuse(name, 'goes round a loop of symlinks');
    const folded = fold(at);
    if (folded !== foldedRoot && !folded.startsWith(foldedRoot + path.sep)) throw refuse(name, why);
    return at;
  };
  const throughLink = 'leads outside the target folder through a symlink';
  const links: Links = { targets: new Map(), fold };
  /** What the archive's earlier entries put at each (folded) path. */
  const placed = new Map<string, Header['type']>();
  const sameAs = insensitive ? ' (names differing only in case are one file here)' : '';
  const claim = (at: string, type: Header['type'], name: string) => {
    for (let up = path.dirname(at); fold(up) !== foldedRoot && up !== path.dirname(up); up = path.dirname(up)) {
      if (placed.get(fold(up)) === 'file') throw refuse(name, `would be written inside ${path.relative(root, up)}, a file an earlier entry writes${sameAs}`);
    }
    const before = placed.get(fold(at));
    if (before && !(before === 'directory' && type === 'directory')) {
      throw refuse(name, `lands on ${path.relative(root, at) || '.'}, which an earlier entry already writes${sameAs}`);
    }
    placed.set(fold(at), type);
  };
  const symlinks: { name: string; at: string; linkname: string }[] = [];
  let count = 0;
  await eachEntry(artifactPath, o.signal, async (h) => {
    const name = path.posix.normalize(h.name).replace(/\/+$/, '');
    if (h.name.startsWith('/') || h.name.startsWith('\\') || /^[A-Za-z]:/.test(h.name)) throw refuse(h.name, 'is an absolute path');
    if (name === '..' || name.startsWith('../')) throw refuse(h.name, 'climbs out of the target folder (..)');
    if (h.type === 'directory') {
      const at = inside(follow(root, name, links), h.name, throughLink);
      claim(at, 'directory', h.name);
      const found = await stat(at).catch(() => null);
      if (found && !found.isDirectory()) throw taken(path.relative(root, at), 'already exists and is not a folder');
      return;
    }
    if (h.type !== 'file' && h.type !== 'symlink') return;
    const parent = inside(follow(root, path.posix.dirname(name), links), h.name, throughLink);
    if (name === '.' || name === '') throw refuse(h.name, 'is not a folder but names the target folder itself');
    const at = path.join(parent, path.posix.basename(name));
    claim(at, h.type, h.name);
    const found = await exists(at);
    if (found?.isDirectory()) throw taken(path.relative(root, at), 'is a folder in the target and would be replaced by a file');
    if (found && !o.overwrite) throw taken(path.relative(root, at), 'already exists');
    if (h.type === 'symlink') {
      const linkname = h.linkname ?? '';
      inside(follow(parent, linkname, links), h.name, `links to ${linkname}, outside the target folder`);
      links.targets.set(fold(at), linkname);
      symlinks.push({ name: h.name, at, linkname });
    } else {
      links.targets.set(fold(at), null);
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

/**
 * Extracts a tar made by the files engine into `dir`, keeping permissions (not setuid, setgid or
 * sticky), mtimes, folders and symlinks. `fs.caseInsensitive` overrides the probe of the target's file
 * system (a test on a case-sensitive disk stands in for one that is not).
 */
export async function extractInto(dir: string, artifactPath: string, o: RestoreOptions, fs: { caseInsensitive?: boolean } = {}): Promise<RestoreResult> {
  const root = await realRoot(dir);
  const count = await check(root, artifactPath, o, fs.caseInsensitive ?? (await caseInsensitive(root)));
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
      if (h.mode !== undefined) await chmod(at, h.mode & PERMISSIONS);
      if (h.mtime) await utimes(at, h.mtime, h.mtime);
    }
  });
  // Folders last, deepest first: writing their contents changed their times, and a read-only folder
  // could not have received them.
  for (const d of dirs.reverse()) {
    if (d.mode !== undefined) await chmod(d.at, d.mode & PERMISSIONS).catch(() => undefined);
    if (d.mtime) await utimes(d.at, d.mtime, d.mtime).catch(() => undefined);
  }
  for (const s of skipped) o.log('warn', `Skipped ${s}: only files, folders and symlinks are restored`);
  return { engine_output: [`${count} entries extracted into ${root}`, ...skipped.map((s) => `skipped ${s}`)].join('\n'), files_count: count };
}
