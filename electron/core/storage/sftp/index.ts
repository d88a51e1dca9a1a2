// A folder on another machine over SSH (SFTP): a NAS, a server.
import { posix } from 'node:path';
import { addAbortSignal, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { SFTPWrapper, Stats } from 'ssh2';
import { AppError } from '../../../../shared/errors.js';
import type { StorageConfig, StorageTestResult } from '../../../../shared/schemas/storage.js';
import { ByteCounter, checkKey, checkPrefix, conflict, listTree, missing, parentOf, tempName, type DirEntry } from '../keys.js';
import { probe } from '../probe.js';
import type { GetOptions, PutOptions, Storage, StoredObject } from '../types.js';
import { explain, STATUS_CODE, statusOf, type SftpPlace } from './errors.js';
import { call, SftpConnection, type HostKeyOptions } from './session.js';
import { SftpReader, SftpWriter } from './streams.js';

export type { HostKeyOptions } from './session.js';

export class SftpStorage implements Storage {
  readonly type = 'ssh' as const;
  private readonly root: string;
  private readonly place: SftpPlace;
  private readonly connection: SftpConnection;
  private rootReady: Promise<void> | undefined;
  /** Folders known to exist in this connection, to spare a round trip per part. */
  private folders = new Set<string>();

  constructor(config: StorageConfig<'ssh'>, options: HostKeyOptions = {}) {
    if (!config.password && !config.private_key) {
      throw new AppError('validation_error', 'Give a password or a private key for the SSH login.', [
        { path: 'config.password', message: 'Password or private key is required' },
      ]);
    }
    const trimmed = config.remote_path.trim();
    this.root = trimmed.length > 1 ? trimmed.replace(/\/+$/, '') : trimmed;
    this.place = {
      host: config.host,
      username: config.username,
      where: `${config.host}:${config.port}`,
      root: this.root,
      credentials: config.private_key ? (config.password ? 'key and password' : 'key') : 'password',
    };
    this.connection = new SftpConnection(config, this.place, options, () => this.folders.clear());
  }

  private pathOf(key: string): string {
    return posix.join(this.root, checkKey(key));
  }

  async put(key: string, body: Readable, options: PutOptions = {}): Promise<{ size: number }> {
    let temp: string | undefined;
    let handle: Buffer | undefined;
    let sftp: SFTPWrapper | undefined;
    try {
      const target = this.pathOf(key);
      sftp = (await this.connection.connect()).sftp;
      if (await statPath(sftp, target)) throw conflict(key);
      await this.ensureRoot(sftp);
      temp = posix.join(posix.dirname(target), tempName(posix.basename(target)));
      handle = await this.createFile(sftp, parentOf(key), temp);
      const counter = new ByteCounter(options.onProgress);
      await pipeline(body, counter, new SftpWriter(sftp, handle), options.signal ? { signal: options.signal } : {});
      const written = await call<Stats>((done) => sftp!.fstat(handle!, done));
      if (written.size !== counter.bytes) {
        throw new AppError(
          'connection_failed',
          `The SSH server stored ${written.size} of the ${counter.bytes} bytes sent for '${key}': the upload was discarded. Check the free space on ${this.place.where}.`,
        );
      }
      await call((done) => sftp!.close(handle!, done));
      handle = undefined;
      await renameNoClobber(sftp, temp, target, key);
      temp = undefined;
      return { size: counter.bytes };
    } catch (error) {
      body.destroy();
      if (sftp && handle) await call((done) => sftp!.close(handle!, done)).catch(() => undefined);
      if (sftp && temp) await call((done) => sftp!.unlink(temp!, done)).catch(() => undefined);
      throw explain(error, this.place);
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    const path = this.pathOf(key);
    try {
      const { sftp } = await this.connection.connect();
      const handle = await call<Buffer>((done) => sftp.open(path, 'r', done)).catch((error: unknown) => {
        throw statusOf(error) === STATUS_CODE.NO_SUCH_FILE ? missing(key) : error;
      });
      const stats = await call<Stats>((done) => sftp.fstat(handle, done));
      if (!stats.isFile()) {
        await call((done) => sftp.close(handle, done)).catch(() => undefined);
        throw missing(key);
      }
      const stream = options.range
        ? new SftpReader(sftp, handle, Math.min(options.range.end, stats.size), options.range.start)
        : new SftpReader(sftp, handle, stats.size);
      return options.signal ? addAbortSignal(options.signal, stream) : stream;
    } catch (error) {
      throw explain(error, this.place);
    }
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const { sftp } = await this.connection.connect();
      const s = await statPath(sftp, this.pathOf(key));
      return s?.isFile() ? { key, size: s.size, modified: new Date(s.mtime * 1000).toISOString() } : null;
    } catch (error) {
      throw explain(error, this.place);
    }
  }

  async list(prefix: string): Promise<StoredObject[]> {
    checkPrefix(prefix);
    try {
      const { sftp } = await this.connection.connect();
      const readDir = async (dir: string): Promise<DirEntry[] | null> => {
        const path = dir ? posix.join(this.root, dir) : this.root;
        try {
          const entries = await call<{ filename: string; attrs: Stats }[]>((done) => sftp.readdir(path, done));
          return entries.map(({ filename, attrs }) => ({
            name: filename,
            isDirectory: attrs.isDirectory(),
            isFile: attrs.isFile(),
            size: attrs.size,
            modified: new Date(attrs.mtime * 1000),
          }));
        } catch (error) {
          if (statusOf(error) === STATUS_CODE.NO_SUCH_FILE) return null;
          throw error;
        }
      };
      return await listTree(readDir, prefix);
    } catch (error) {
      throw explain(error, this.place);
    }
  }

  async rename(from: string, to: string): Promise<void> {
    try {
      const source = this.pathOf(from);
      const target = this.pathOf(to);
      const { sftp } = await this.connection.connect();
      if (!(await statPath(sftp, source))?.isFile()) throw missing(from);
      // Asked first, since not every server refuses an existing target as OpenSSH does.
      if (await statPath(sftp, target)) throw conflict(to);
      await this.makeFolders(sftp, parentOf(to));
      try {
        await renameNoClobber(sftp, source, target, to);
      } catch (error) {
        if (statusOf(error) === STATUS_CODE.NO_SUCH_FILE && !(await statPath(sftp, source).catch(() => null))) throw missing(from);
        throw error;
      }
      if (parentOf(from) !== parentOf(to)) await this.pruneFolders(sftp, from);
    } catch (error) {
      throw explain(error, this.place);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      const { sftp } = await this.connection.connect();
      try {
        await call((done) => sftp.unlink(this.pathOf(key), done));
      } catch (error) {
        if (statusOf(error) === STATUS_CODE.NO_SUCH_FILE) return;
        throw error;
      }
      await this.pruneFolders(sftp, key);
    } catch (error) {
      throw explain(error, this.place);
    }
  }

  async append(key: string, text: string): Promise<void> {
    try {
      const { sftp } = await this.connection.connect();
      const path = this.pathOf(key);
      await this.ensureRoot(sftp);
      await this.makeFolders(sftp, parentOf(key));
      // SSH_FXF_APPEND: OpenSSH opens the file O_APPEND, so each write lands at the end.
      await call((done) => sftp.appendFile(path, text, { mode: 0o600 }, done));
    } catch (error) {
      throw explain(error, this.place);
    }
  }

  /** A put cut short leaves a hidden temp file, which `list` shows and deleting the folder removes. */
  async abortUnfinishedUploads(): Promise<number> {
    return 0;
  }

  async freeSpaceBytes(): Promise<number | null> {
    const { sftp } = await this.connection.connect();
    try {
      const info = await call<{ f_bavail: number; f_frsize: number }>((done) => sftp.ext_openssh_statvfs(this.root, done));
      return info.f_bavail * info.f_frsize;
    } catch {
      // Not an OpenSSH server (no statvfs@openssh.com), or the folder is not there yet.
      return null;
    }
  }

  async test(): Promise<StorageTestResult> {
    const result = await probe(this);
    const seen = this.connection.seenFingerprint;
    return seen ? { ...result, host_key_fingerprint: seen } : result;
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  /** Same rule as a local folder: created when missing, but only inside an existing folder (an unmounted disk is not silently replaced). */
  private ensureRoot(sftp: SFTPWrapper): Promise<void> {
    this.rootReady ??= (async () => {
      const s = await statPath(sftp, this.root);
      if (s?.isDirectory()) return;
      if (s) throw new AppError('connection_failed', `${this.root} on ${this.place.where} is a file, not a folder: pick a folder for the backups.`);
      try {
        await call((done) => sftp.mkdir(this.root, done));
      } catch (error) {
        if ((await statPath(sftp, this.root))?.isDirectory()) return;
        if (statusOf(error) === STATUS_CODE.NO_SUCH_FILE) {
          throw new AppError(
            'connection_failed',
            `The folder ${this.root} does not exist on ${this.place.where}, and neither does ${posix.dirname(this.root)}: check the remote folder, or that the disk is mounted on the server.`,
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

  /** mkdir -p below the root. */
  private async makeFolders(sftp: SFTPWrapper, dir: string): Promise<void> {
    let sofar = '';
    for (const segment of dir ? dir.split('/') : []) {
      sofar = sofar ? `${sofar}/${segment}` : segment;
      if (this.folders.has(sofar)) continue;
      const folder = posix.join(this.root, sofar);
      try {
        await call((done) => sftp.mkdir(folder, done));
      } catch (error) {
        // OpenSSH answers a plain "failure" for an existing folder; look before concluding.
        if (!(await statPath(sftp, folder))?.isDirectory()) throw error;
      }
      this.folders.add(sofar);
    }
  }

  /** The folders, then the temp file; retried once because a concurrent delete may prune an emptied folder in between. */
  private async createFile(sftp: SFTPWrapper, dir: string, path: string): Promise<Buffer> {
    for (let attempt = 1; ; attempt++) {
      await this.makeFolders(sftp, dir);
      try {
        return await call<Buffer>((done) => sftp.open(path, 'wx', { mode: 0o600 }, done));
      } catch (error) {
        if (statusOf(error) !== STATUS_CODE.NO_SUCH_FILE || attempt >= 2) throw error;
        this.folders.clear();
      }
    }
  }

  /** Retention deletes whole backups; their emptied folders should not pile up on the server. */
  private async pruneFolders(sftp: SFTPWrapper, key: string): Promise<void> {
    for (let dir = parentOf(key); dir; dir = parentOf(dir)) {
      const removed = await call((done) => sftp.rmdir(posix.join(this.root, dir), done)).then(
        () => true,
        () => false,
      );
      if (!removed) break;
      this.folders.delete(dir);
    }
  }
}

async function statPath(sftp: SFTPWrapper, path: string): Promise<Stats | null> {
  try {
    return await call<Stats>((done) => sftp.stat(path, done));
  } catch (error) {
    if (statusOf(error) === STATUS_CODE.NO_SUCH_FILE) return null;
    throw error;
  }
}

/**
 * SFTP v3's rename, which refuses an existing target (OpenSSH links, then unlinks); not
 * posix-rename@openssh.com, which would replace it. OpenSSH says only "failure" then, so the
 * target is looked at to tell a conflict from other refusals.
 */
async function renameNoClobber(sftp: SFTPWrapper, from: string, to: string, key: string): Promise<void> {
  try {
    await call((done) => sftp.rename(from, to, done));
  } catch (error) {
    if (await statPath(sftp, to).catch(() => null)) throw conflict(key);
    throw error;
  }
}
