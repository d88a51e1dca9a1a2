// A folder on this machine: a local disk, a mounted USB drive or a network share.
import { constants } from 'node:fs';
import { appendFile, link, lstat, mkdir, open, readdir, realpath, rename, rm, rmdir, stat, statfs, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { addAbortSignal, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../../shared/errors.js';
import type { StorageConfig } from '../../../shared/schemas/storage.js';
import { ByteCounter, checkKey, checkPrefix, conflict, isAbortError, listTree, missing, parentOf, tempName, type DirEntry } from './keys.js';
import { probe } from './probe.js';
import type { GetOptions, PutOptions, Storage, StoredObject } from './types.js';

const GB = 1024 ** 3;
/** Filesystems without hard links (FAT, exFAT, some network shares) answer link() with one of these. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK', 'EXDEV']);

const codeOf = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code;

export class LocalStorage implements Storage {
  readonly type = 'local' as const;
  private readonly root: string;
  private rootReady: Promise<void> | undefined;

  constructor(private readonly config: StorageConfig<'local'>) {
    this.root = resolve(config.path);
  }

  private pathOf(key: string): string {
    return join(this.root, ...checkKey(key).split('/'));
  }

  async put(key: string, body: Readable, options: PutOptions = {}): Promise<{ size: number }> {
    let temp: string | undefined;
    let file: FileHandle | undefined;
    try {
      const target = this.pathOf(key);
      if (await exists(target)) throw conflict(key);
      await this.ensureRoot();
      const dir = dirname(target);
      temp = join(dir, tempName(basename(target)));
      file = await createFile(dir, temp);
      const counter = new ByteCounter(options.onProgress);
      // flush: the data reaches the disk (fsync) before the stream closes the file, so before the name exists.
      await pipeline(body, counter, file.createWriteStream({ flush: true }), options.signal ? { signal: options.signal } : {});
      file = undefined;
      await publish(temp, target, key);
      temp = undefined;
      await syncFolder(dir);
      return { size: counter.bytes };
    } catch (error) {
      body.destroy();
      await file?.close().catch(() => undefined);
      if (temp) await rm(temp, { force: true }).catch(() => undefined);
      throw this.explain(error);
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    const path = this.pathOf(key);
    let file: FileHandle;
    try {
      file = await open(path, constants.O_RDONLY);
    } catch (error) {
      if (codeOf(error) === 'ENOENT' || codeOf(error) === 'ENOTDIR') throw missing(key);
      throw this.explain(error);
    }
    if (!(await file.stat()).isFile()) {
      await file.close();
      throw missing(key);
    }
    const stream = file.createReadStream(options.range ? { start: options.range.start, end: options.range.end - 1 } : {});
    return options.signal ? addAbortSignal(options.signal, stream) : stream;
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const s = await stat(this.pathOf(key));
      return s.isFile() ? { key, size: s.size, modified: s.mtime.toISOString() } : null;
    } catch (error) {
      if (codeOf(error) === 'ENOENT' || codeOf(error) === 'ENOTDIR') return null;
      throw this.explain(error);
    }
  }

  async list(prefix: string): Promise<StoredObject[]> {
    checkPrefix(prefix);
    let realRoot: string | undefined;
    const readDir = async (dir: string): Promise<DirEntry[] | null> => {
      const path = join(this.root, ...(dir ? dir.split('/') : []));
      let names: string[];
      try {
        names = await readdir(path);
      } catch (error) {
        if (codeOf(error) === 'ENOENT' || codeOf(error) === 'ENOTDIR') return null;
        throw this.explain(error);
      }
      const entries: DirEntry[] = [];
      for (const name of names) {
        const s = await lstat(join(path, name)).catch(() => null);
        if (!s) continue;
        if (!s.isSymbolicLink()) {
          entries.push({ name, isDirectory: s.isDirectory(), isFile: s.isFile(), size: s.size, modified: s.mtime });
          continue;
        }
        // A linked folder is never walked (a link to its own folder would loop, one to / would list the
        // disk); a linked file is listed only when it stays inside the storage folder.
        realRoot ??= await realpath(this.root);
        const target = await realpath(join(path, name)).catch(() => null);
        if (!target || (target !== realRoot && !target.startsWith(realRoot + sep))) continue;
        const t = await stat(target).catch(() => null);
        if (t?.isFile()) entries.push({ name, isDirectory: false, isFile: true, size: t.size, modified: t.mtime });
      }
      return entries;
    };
    return listTree(readDir, prefix);
  }

  async rename(from: string, to: string): Promise<void> {
    try {
      const source = this.pathOf(from);
      const target = this.pathOf(to);
      const s = await stat(source).catch((error: unknown) => {
        if (codeOf(error) === 'ENOENT' || codeOf(error) === 'ENOTDIR') return null;
        throw error;
      });
      // A folder is not an object, and link() would refuse it anyway.
      if (!s?.isFile()) throw missing(from);
      const dir = dirname(target);
      await mkdir(dir, { recursive: true });
      try {
        await publish(source, target, to);
      } catch (error) {
        // The source vanished meanwhile (a concurrent delete).
        if (codeOf(error) === 'ENOENT' && !(await exists(source))) throw missing(from);
        throw error;
      }
      await syncFolder(dir);
      if (dirname(source) !== dir) {
        await syncFolder(dirname(source));
        await this.pruneFolders(from);
      }
    } catch (error) {
      throw this.explain(error);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await unlink(this.pathOf(key));
    } catch (error) {
      if (codeOf(error) === 'ENOENT' || codeOf(error) === 'ENOTDIR') return;
      throw this.explain(error);
    }
    await this.pruneFolders(key);
  }

  async append(key: string, text: string): Promise<void> {
    try {
      const path = this.pathOf(key);
      await this.ensureRoot();
      await mkdir(dirname(path), { recursive: true });
      // O_APPEND: each write lands at the end, even with another process appending too.
      await appendFile(path, text, { mode: 0o600, flag: 'a' });
    } catch (error) {
      throw this.explain(error);
    }
  }

  /** A put cut short leaves a hidden temp file, which `list` shows and deleting the folder removes. */
  async abortUnfinishedUploads(): Promise<number> {
    return 0;
  }

  /** Retention deletes whole backups; their emptied folders should not pile up in the user's folder. */
  private async pruneFolders(key: string): Promise<void> {
    for (let dir = parentOf(key); dir; dir = parentOf(dir)) {
      if (
        !(await rmdir(join(this.root, ...dir.split('/'))).then(
          () => true,
          () => false,
        ))
      )
        break;
    }
  }

  async freeSpaceBytes(): Promise<number | null> {
    let free: number | null = null;
    // Before the first backup the folder may not exist yet; its parent holds the same disk.
    for (const path of [this.root, dirname(this.root)]) {
      const s = await statfs(path).catch(() => null);
      if (s) {
        free = s.bavail * s.bsize;
        break;
      }
    }
    if (free === null || this.config.max_size_gb === undefined) return free;
    const used = (await this.list('').catch(() => [])).reduce((sum, o) => sum + o.size, 0);
    return Math.max(0, Math.min(free, Math.floor(this.config.max_size_gb * GB) - used));
  }

  test() {
    return probe(this);
  }

  async close(): Promise<void> {}

  /**
   * The root is created when missing, but only inside an existing folder: a path whose parent is
   * gone is usually a drive that is not mounted, and backups must not fill the system disk instead.
   */
  private ensureRoot(): Promise<void> {
    this.rootReady ??= (async () => {
      try {
        const s = await stat(this.root);
        if (!s.isDirectory()) throw new AppError('connection_failed', `${this.root} is a file, not a folder: pick a folder for the backups.`);
        return;
      } catch (error) {
        if (codeOf(error) !== 'ENOENT') throw error;
      }
      try {
        await mkdir(this.root);
      } catch (error) {
        if (codeOf(error) === 'EEXIST') return;
        if (codeOf(error) === 'ENOENT') {
          throw new AppError(
            'connection_failed',
            `The folder ${this.root} does not exist, and neither does ${dirname(this.root)}: check the path, or that the drive is connected and mounted.`,
          );
        }
        throw error;
      }
    })().catch((error: unknown) => {
      this.rootReady = undefined;
      throw error;
    });
    return this.rootReady;
  }

  private explain(error: unknown): unknown {
    if (error instanceof AppError || isAbortError(error)) return error;
    const code = codeOf(error);
    const path = (error as NodeJS.ErrnoException).path ?? this.root;
    switch (code) {
      case 'EACCES':
      case 'EPERM':
        return new AppError(
          'connection_failed',
          `Permission denied on ${path}: let the user running DataGuardian write to ${this.root}, or pick another folder.`,
        );
      case 'EROFS':
        return new AppError('connection_failed', `${this.root} is on a read-only disk: pick a writable folder.`);
      case 'ENOSPC':
      case 'EDQUOT':
        return new AppError('connection_failed', `The disk holding ${this.root} is full: free space or pick another storage.`);
      case 'ENOTDIR':
        return new AppError('connection_failed', `Part of ${path} is a file, not a folder: check the storage folder.`);
      case 'EIO':
        return new AppError('connection_failed', `The disk holding ${this.root} reported an input/output error: check the drive.`);
      default:
        return new AppError('internal', `Local storage ${this.root}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (error: unknown) => {
      if (codeOf(error) === 'ENOENT' || codeOf(error) === 'ENOTDIR') return false;
      throw error;
    },
  );
}

/** Creates the folders and the temp file; retried once because a concurrent delete may prune an emptied folder in between. */
async function createFile(dir: string, path: string): Promise<FileHandle> {
  for (let attempt = 1; ; attempt++) {
    await mkdir(dir, { recursive: true });
    try {
      return await open(path, 'wx', 0o600);
    } catch (error) {
      if (codeOf(error) !== 'ENOENT' || attempt >= 2) throw error;
    }
  }
}

/**
 * Gives a file (a finished temp file, or an object being renamed) its new name without replacing
 * anything: link() fails when the name is taken, where rename() would silently overwrite. Without
 * hard links, check and rename; that leaves a window in which a concurrent writer of the same
 * name could be replaced, which the timestamped backup folders make moot.
 */
async function publish(from: string, target: string, key: string): Promise<void> {
  try {
    await link(from, target);
  } catch (error) {
    if (codeOf(error) === 'EEXIST') throw conflict(key);
    if (!NO_HARD_LINKS.has(codeOf(error) ?? '')) throw error;
    if (await exists(target)) throw conflict(key);
    await rename(from, target);
    return;
  }
  try {
    await unlink(from);
  } catch (error) {
    // Undone, so a failed rename leaves one name, not two.
    await unlink(target).catch(() => undefined);
    throw error;
  }
}

/** Makes the new name durable; Windows cannot open a folder for this, and there NTFS journals the rename. */
async function syncFolder(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
