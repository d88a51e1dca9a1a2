import {
  closeSync,
  constants,
  fchmodSync,
  futimesSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readlinkSync,
  renameSync,
  statSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, open, readdir, realpath, rename, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../../../shared/errors.js';
import type { RestoreOptions, RestoreResult } from '../types.js';
import { TURN_MS, Turns } from './pace.js';
import { tarReader, type TarRead } from './tar-read.js';

const refuse = (name: string, why: string) => new AppError('validation_error', `Refused: the backup's entry “${name}” ${why}. Nothing was written.`);
const taken = (name: string, why: string) =>
  new AppError('conflict', `${name} ${why}: choose “Replace files that already exist” or another folder. Nothing was written.`);

/**
 * What extraction will have made of each path by the time it reaches an entry. Paths are keyed by
 * `fold`: on a case-insensitive file system `a/X` and `A/x` are one file, so one key.
 */
interface Links {
  /** Folded path → link target; null: the archive puts a non-link there. */
  targets: Map<string, string | null>;
  fold: (p: string) => string;
  /** What the disk holds (path → link target, null: no link), asked once a path; none is asked inside `empty`. */
  disk: Map<string, string | null>;
  /** A folder that did not exist when the restore began (the target, when it is new): nothing inside it is on disk. */
  empty: string | null;
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
  if (links.empty !== null && (p === links.empty || p.startsWith(links.empty + path.sep))) return null;
  let link = links.disk.get(p);
  if (link === undefined) {
    try {
      link = lstatSync(p).isSymbolicLink() ? readlinkSync(p) : null;
    } catch {
      link = null;
    }
    links.disk.set(p, link);
  }
  return link;
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

/** What a refused or skipped entry is called in a message: a NUL shown, not cut off there. */
const shown = (name: string) => name.replace(/\0/g, '\\0');

/** What the restore never makes, by typeflag: said in the log, so that nothing is left out silently. */
const UNMADE: Record<string, string> = { '1': 'a hard link', '3': 'a character device', '4': 'a block device', '6': 'a FIFO' };

/** A folder of the archive, given its mode and mtime once everything is in place. */
interface Folder {
  at: string;
  mode: number;
  mtime: number;
}

/**
 * Checks each entry as it streams past and decides where it lands, as extraction will have made the target by then
 * (the archive's own symlinks, and those already in the target folder): an entry with an absolute path, a NUL, one that
 * climbs out of the target, one written through a symlink that leads outside, or a symlink pointing outside is refused;
 * so is an existing file, unless `overwrite`, and an entry landing where an earlier one already put something (the same
 * name, or on a case-insensitive file system the same name in another case).
 */
function entryChecks(root: string, o: RestoreOptions, insensitive: boolean, targetExists: boolean) {
  const fold = insensitive ? (p: string) => p.normalize('NFC').toLowerCase() : (p: string) => p;
  const foldedRoot = fold(root);
  const inside = (at: string | null, name: string, why: string): string => {
    if (at === null) throw refuse(name, 'goes round a loop of symlinks');
    const folded = fold(at);
    if (folded !== foldedRoot && !folded.startsWith(foldedRoot + path.sep)) throw refuse(name, why);
    return at;
  };
  const throughLink = 'leads outside the target folder through a symlink';
  const links: Links = { targets: new Map(), fold, disk: new Map(), empty: targetExists ? null : root };
  /** What the archive's earlier entries put at each (folded) path. */
  const placed = new Map<string, TarRead['type']>();
  const sameAs = insensitive ? ' (names differing only in case are one file here)' : '';
  const claim = (at: string, type: TarRead['type'], name: string) => {
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

  return {
    /** Where the entry lands in the target, or null for what is not restored (hard links, devices, FIFOs). */
    place(h: TarRead): string | null {
      const name = path.posix.normalize(h.name).replace(/\/+$/, '');
      if (h.name.includes('\0') || h.linkname?.includes('\0')) throw refuse(shown(h.name), 'holds a NUL character');
      if (h.name.startsWith('/') || h.name.startsWith('\\') || /^[A-Za-z]:/.test(h.name)) throw refuse(h.name, 'is an absolute path');
      if (name === '..' || name.startsWith('../')) throw refuse(h.name, 'climbs out of the target folder (..)');
      if (h.type === 'directory') {
        const at = inside(follow(root, name, links), h.name, throughLink);
        claim(at, 'directory', h.name);
        const found = targetExists ? statSync(at, { throwIfNoEntry: false }) : undefined;
        if (found && !found.isDirectory()) throw taken(path.relative(root, at), 'already exists and is not a folder');
        return at;
      }
      if (h.type !== 'file' && h.type !== 'symlink') return null;
      const parent = inside(follow(root, path.posix.dirname(name), links), h.name, throughLink);
      if (name === '.' || name === '') throw refuse(h.name, 'is not a folder but names the target folder itself');
      const at = path.join(parent, path.posix.basename(name));
      claim(at, h.type, h.name);
      const found = targetExists ? lstatSync(at, { throwIfNoEntry: false }) : undefined;
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
      return at;
    },
    /**
     * A later symlink can change where an earlier one leads (`l -> a/b/../..`, then `a/b -> .`): once every entry has
     * streamed past, each is checked again as it will be.
     */
    recheckSymlinks() {
      for (const s of symlinks) {
        inside(follow(path.dirname(s.at), s.linkname, links), s.name, `links to ${s.linkname}, outside the target folder`);
      }
    },
  };
}

/** Reads of the archive: large enough to be few, small enough that the entries of one hold the event loop ~1 ms. */
const READ_SIZE = 256 * 1024;
/**
 * On a slow disk (a network share), where one file's calls take milliseconds, reads shrink down to this, so that the
 * entries of one read never hold the event loop for long; they grow back as the disk answers quickly again.
 */
const SLOW_DISK_READ_SIZE = 8 * 1024;
/** A new file is opened this way: never through a symlink, never onto something already there. */
const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

/**
 * The one pass over the archive: each entry is checked as it streams past (`entryChecks`) and written into `staging`
 * at the place it will have in `root`. Plain synchronous calls, a few per file (open, write, chmod, utimes, close),
 * in turns that leave the event loop free between reads: thousands of small files would otherwise each pay for
 * a dozen round trips through libuv's thread pool.
 */
async function extractToStaging(root: string, staging: string, artifactPath: string, o: RestoreOptions, insensitive: boolean, targetExists: boolean) {
  const checks = entryChecks(root, o, insensitive, targetExists);
  const staged = (at: string) => path.join(staging, path.relative(root, at));
  /** Folders of the staging area known to exist: each is made once. */
  const made = new Set<string>([staging]);
  const folder = (p: string) => {
    if (made.has(p)) return;
    mkdirSync(p, { recursive: true });
    made.add(p);
  };
  const folders: Folder[] = [];
  const skipped: string[] = [];
  let count = 0;
  let writing: { fd: number; mode: number; mtime: number } | null = null;

  const reader = tarReader({
    entry(h) {
      const at = checks.place(h);
      if (at === null) {
        skipped.push(`${shown(h.name)} (${UNMADE[h.typeflag] ?? `type ${JSON.stringify(h.typeflag)}`})`);
        return;
      }
      const p = staged(at);
      if (h.type === 'directory') {
        folder(p);
        folders.push({ at, mode: h.mode, mtime: h.mtime });
        return;
      }
      folder(path.dirname(p));
      count++;
      if (h.type === 'symlink') {
        symlinkSync(h.linkname ?? '', p);
        lutimesSync(p, h.mtime, h.mtime);
        return;
      }
      writing = { fd: openSync(p, CREATE, 0o600), mode: h.mode, mtime: h.mtime };
    },
    data(chunk) {
      for (let done = 0; done < chunk.length;) done += writeSync(writing!.fd, chunk, done, chunk.length - done);
    },
    end() {
      const { fd, mode, mtime } = writing!;
      writing = null;
      try {
        fchmodSync(fd, mode & PERMISSIONS);
        futimesSync(fd, mtime, mtime);
      } finally {
        closeSync(fd);
      }
    },
  });
  const turns = new Turns();
  const archive = await open(artifactPath, 'r');
  try {
    for (let size = READ_SIZE; ;) {
      o.signal.throwIfAborted();
      // A fresh buffer each read: the reader may keep a header's first bytes from one read until the next.
      const { buffer, bytesRead } = await archive.read(Buffer.allocUnsafe(size), 0, size, null);
      if (bytesRead === 0) break;
      const started = performance.now();
      reader.observe(buffer.subarray(0, bytesRead));
      const took = performance.now() - started;
      size = took > 4 * TURN_MS ? Math.max(SLOW_DISK_READ_SIZE, size / 2) : Math.min(READ_SIZE, size * 2);
      await turns.breathe();
    }
  } finally {
    if (writing) closeSync((writing as { fd: number }).fd);
    await archive.close();
  }
  if (reader.cut) throw new AppError('validation_error', "The backup's archive ends in the middle of an entry: it is incomplete. Nothing was written.");
  checks.recheckSymlinks();
  return { count, folders, skipped };
}

/**
 * A private folder beside the target (on the same disk, so that moving out of it is a rename), and the mode a folder
 * made there gets (what the target gets when the archive does not say).
 */
async function makeStaging(root: string): Promise<{ staging: string; folderMode: number }> {
  const staging = path.join(path.dirname(root), `.${path.basename(root)}.restoring-${randomBytes(6).toString('hex')}`);
  await mkdir(staging);
  const folderMode = (await stat(staging)).mode & PERMISSIONS;
  await chmod(staging, 0o700);
  return { staging, folderMode };
}

/**
 * Moves what `from` holds into `to`, which exists: what `to` lacks is renamed in whole (a folder with all it holds),
 * folders in both are merged, files replace files (the entry checks allowed it: `overwrite`). The target changed since
 * those checks (a folder there turned into a file) is refused here too.
 */
async function mergeInto(from: string, to: string, root: string, turns: Turns): Promise<void> {
  for (const d of await readdir(from, { withFileTypes: true })) {
    const src = path.join(from, d.name);
    const dst = path.join(to, d.name);
    const there = lstatSync(dst, { throwIfNoEntry: false });
    if (d.isDirectory() && there) {
      if (!there.isDirectory()) throw taken(path.relative(root, dst), 'already exists and is not a folder');
      await mergeInto(src, dst, root, turns);
      continue;
    }
    if (there?.isDirectory()) throw taken(path.relative(root, dst), 'is a folder in the target and would be replaced by a file');
    renameSync(src, dst);
    await turns.breathe();
  }
}

/**
 * Extracts a tar made by the files engine into `dir`, keeping permissions (not setuid, setgid or sticky), mtimes, folders
 * and symlinks. The archive is read once: each entry is checked as it streams and written into a staging folder beside
 * the target, which then moves into place (a new target is one rename), so that a refused entry or a failure on the way
 * leaves the target as it was and nothing beside it. `fs.caseInsensitive` overrides the probe of the target's file system
 * (a test on a case-sensitive disk stands in for one that is not).
 */
export async function extractInto(dir: string, artifactPath: string, o: RestoreOptions, fs: { caseInsensitive?: boolean } = {}): Promise<RestoreResult> {
  const root = await realRoot(dir);
  const insensitive = fs.caseInsensitive ?? (await caseInsensitive(root));
  const existing = await lstat(root).catch(() => null);
  if (existing && !existing.isDirectory()) throw taken(root, 'is a file, not a folder');
  await mkdir(path.dirname(root), { recursive: true });
  const { staging, folderMode } = await makeStaging(root);
  try {
    const { count, folders, skipped } = await extractToStaging(root, staging, artifactPath, o, insensitive, existing !== null);
    o.log('info', `${count} entries checked and extracted beside the target; moving them into ${root}`);
    if (existing) await mergeInto(staging, root, root, new Turns());
    else {
      await chmod(staging, folderMode);
      await rename(staging, root);
    }
    // Folders last, deepest first: moving their contents in changed their times, and a read-only folder could not have
    // received them.
    for (const d of folders.reverse()) {
      await chmod(d.at, d.mode & PERMISSIONS).catch(() => undefined);
      await utimes(d.at, d.mtime, d.mtime).catch(() => undefined);
    }
    for (const s of skipped) o.log('warn', `Skipped ${s}: only files, folders and symlinks are restored`);
    return { engine_output: [`${count} entries extracted into ${root}`, ...skipped.map((s) => `skipped ${s}`)].join('\n'), files_count: count };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
