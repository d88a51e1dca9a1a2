// A folder on another machine over SSH (SFTP): a NAS, a server.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { addAbortSignal, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client, type ConnectConfig, type SFTPWrapper, type Stats } from 'ssh2';
import { AppError } from '../../../shared/errors.js';
import type { StorageConfig, StorageTestResult } from '../../../shared/schemas/storage.js';
import { scoped } from '../log.js';
import { ByteCounter, checkKey, checkPrefix, conflict, isAbortError, listTree, missing, parentOf, tempName, type DirEntry } from './keys.js';
import { probe } from './probe.js';
import type { PutOptions, Storage, StoredObject } from './types.js';

const log = scoped('storage');
/** SFTP v3 status codes (ssh2's `utils` is not reachable as a named ESM import). */
const STATUS_CODE = { NO_SUCH_FILE: 2, PERMISSION_DENIED: 3, FAILURE: 4 } as const;
const READY_TIMEOUT_MS = 20_000;
/** Bytes per SFTP read or write request, and how many bytes may be in flight at once. */
const PIECE = 64 * 1024;
const WRITE_WINDOW = 2 * 1024 * 1024;
const READS_IN_FLIGHT = 16;

interface Session {
  client: Client;
  sftp: SFTPWrapper;
}

export interface HostKeyOptions {
  /** Called once the login succeeded with a host key seen for the first time, so the caller remembers it. */
  onHostKey?: (fingerprint: string) => void | Promise<void>;
}

/** As `ssh-keygen -lf` prints it: 'SHA256:' and the unpadded base64 of the key blob's SHA-256. */
export function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

const sameFingerprint = (a: string, b: string) => {
  const norm = (s: string) => s.trim().replace(/^SHA256:/i, '').replace(/=+$/, '');
  return norm(a) === norm(b);
};

const statusOf = (e: unknown): unknown => (e as { code?: unknown } | undefined)?.code;

/** Promise form of ssh2's callback API. */
function call<T = void>(start: (done: (error: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value as T))));
}

export class SftpStorage implements Storage {
  readonly type = 'ssh' as const;
  private readonly root: string;
  private readonly where: string;
  private session: Promise<Session> | undefined;
  /** The client behind `session`, so a late 'close' of an old connection does not drop a newer one. */
  private current: Client | undefined;
  private seenFingerprint: string | undefined;
  private rootReady: Promise<void> | undefined;
  /** Folders known to exist in this connection, to spare a round trip per part. */
  private folders = new Set<string>();

  constructor(
    private readonly config: StorageConfig<'ssh'>,
    private readonly options: HostKeyOptions = {},
  ) {
    if (!config.password && !config.private_key) {
      throw new AppError('validation_error', 'Give a password or a private key for the SSH login.', [
        { path: 'config.password', message: 'Password or private key is required' },
      ]);
    }
    const trimmed = config.remote_path.trim();
    this.root = trimmed.length > 1 ? trimmed.replace(/\/+$/, '') : trimmed;
    this.where = `${config.host}:${config.port}`;
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
      sftp = (await this.connect()).sftp;
      if (await this.statPath(sftp, target)) throw conflict(key);
      await this.ensureRoot(sftp);
      temp = posix.join(posix.dirname(target), tempName(posix.basename(target)));
      handle = await this.createFile(sftp, parentOf(key), temp);
      const counter = new ByteCounter(options.onProgress);
      await pipeline(body, counter, new SftpWriter(sftp, handle), options.signal ? { signal: options.signal } : {});
      const written = await call<Stats>((done) => sftp!.fstat(handle!, done));
      if (written.size !== counter.bytes) {
        throw new AppError('connection_failed', `The SSH server stored ${written.size} of the ${counter.bytes} bytes sent for '${key}': the upload was discarded. Check the free space on ${this.where}.`);
      }
      await call((done) => sftp!.close(handle!, done));
      handle = undefined;
      try {
        // SFTP's rename refuses an existing target (OpenSSH links, then unlinks), so nothing is overwritten.
        await call((done) => sftp!.rename(temp!, target, done));
      } catch (error) {
        if (await this.statPath(sftp, target).catch(() => null)) throw conflict(key);
        throw error;
      }
      temp = undefined;
      return { size: counter.bytes };
    } catch (error) {
      body.destroy();
      if (sftp && handle) await call((done) => sftp!.close(handle!, done)).catch(() => undefined);
      if (sftp && temp) await call((done) => sftp!.unlink(temp!, done)).catch(() => undefined);
      throw this.explain(error);
    }
  }

  async get(key: string, options: { signal?: AbortSignal } = {}): Promise<Readable> {
    const path = this.pathOf(key);
    try {
      const { sftp } = await this.connect();
      const handle = await call<Buffer>((done) => sftp.open(path, 'r', done)).catch((error: unknown) => {
        throw statusOf(error) === STATUS_CODE.NO_SUCH_FILE ? missing(key) : error;
      });
      const stats = await call<Stats>((done) => sftp.fstat(handle, done));
      if (!stats.isFile()) {
        await call((done) => sftp.close(handle, done)).catch(() => undefined);
        throw missing(key);
      }
      const stream = new SftpReader(sftp, handle, stats.size);
      return options.signal ? addAbortSignal(options.signal, stream) : stream;
    } catch (error) {
      throw this.explain(error);
    }
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const { sftp } = await this.connect();
      const s = await this.statPath(sftp, this.pathOf(key));
      return s?.isFile() ? { key, size: s.size, modified: new Date(s.mtime * 1000).toISOString() } : null;
    } catch (error) {
      throw this.explain(error);
    }
  }

  async list(prefix: string): Promise<StoredObject[]> {
    checkPrefix(prefix);
    try {
      const { sftp } = await this.connect();
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
      throw this.explain(error);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      const { sftp } = await this.connect();
      try {
        await call((done) => sftp.unlink(this.pathOf(key), done));
      } catch (error) {
        if (statusOf(error) === STATUS_CODE.NO_SUCH_FILE) return;
        throw error;
      }
      // Retention deletes whole backups; their emptied folders should not pile up on the server.
      for (let dir = parentOf(key); dir; dir = parentOf(dir)) {
        const removed = await call((done) => sftp.rmdir(posix.join(this.root, dir), done)).then(() => true, () => false);
        if (!removed) break;
        this.folders.delete(dir);
      }
    } catch (error) {
      throw this.explain(error);
    }
  }

  async freeSpaceBytes(): Promise<number | null> {
    const { sftp } = await this.connect();
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
    return this.seenFingerprint ? { ...result, host_key_fingerprint: this.seenFingerprint } : result;
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    const open = await session?.catch(() => undefined);
    if (!open) return;
    await new Promise<void>((resolve) => {
      open.client.once('close', () => resolve());
      open.client.end();
      setTimeout(resolve, 2_000).unref();
    });
  }

  /** One connection per storage object, opened on first use and again after it drops. */
  private connect(): Promise<Session> {
    this.session ??= this.open().catch((error: unknown) => {
      this.session = undefined;
      throw error;
    });
    return this.session;
  }

  private async open(): Promise<Session> {
    const expected = this.config.host_key_fingerprint?.trim() || undefined;
    let refusedKey: AppError | undefined;
    const session = await new Promise<Session>((resolve, reject) => {
      const client = new Client();
      let settled = false;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        client.end();
        reject(refusedKey ?? this.explainConnect(error));
      };
      client.on('ready', () => {
        client.sftp((error, sftp) => {
          if (error) return fail(error);
          settled = true;
          resolve({ client, sftp });
        });
      });
      client.on('error', (error) => {
        if (settled) log.warn(`SSH connection to ${this.where} failed: ${error.message}`);
        fail(error);
      });
      client.on('close', () => {
        fail(new Error('The SSH server closed the connection during the login'));
        if (this.session && this.current === client) this.session = undefined;
        this.folders.clear();
      });
      this.current = client;
      const settings: ConnectConfig = {
        host: this.config.host,
        port: this.config.port,
        username: this.config.username,
        readyTimeout: READY_TIMEOUT_MS,
        // A dead link is noticed within a minute instead of hanging an upload.
        keepaliveInterval: 15_000,
        keepaliveCountMax: 4,
        hostVerifier: (key: Buffer) => {
          const seen = hostKeyFingerprint(key);
          this.seenFingerprint = seen;
          if (!expected || sameFingerprint(expected, seen)) return true;
          refusedKey = new AppError(
            'connection_failed',
            `The server's host key changed: expected ${expected}, got ${seen}. If the server was reinstalled, clear the fingerprint in the storage settings.`,
            undefined,
            { host_key_fingerprint: seen },
          );
          return false;
        },
      };
      if (this.config.password) settings.password = this.config.password;
      if (this.config.private_key) settings.privateKey = this.config.private_key;
      if (this.config.passphrase) settings.passphrase = this.config.passphrase;
      try {
        client.connect(settings);
      } catch (error) {
        // ssh2 parses the private key synchronously.
        fail(new AppError('validation_error', `The private key could not be read (${(error as Error).message.replace(/^Cannot parse privateKey: /, '')}): check the key and its passphrase.`));
      }
    });
    if (!expected && this.seenFingerprint) {
      try {
        await this.options.onHostKey?.(this.seenFingerprint);
      } catch (error) {
        // The connection is sound; only the remembering failed, so the next connection asks again.
        log.warn(`Could not remember the host key of ${this.where}: ${(error as Error).message}`);
      }
    }
    return session;
  }

  private async statPath(sftp: SFTPWrapper, path: string): Promise<Stats | null> {
    try {
      return await call<Stats>((done) => sftp.stat(path, done));
    } catch (error) {
      if (statusOf(error) === STATUS_CODE.NO_SUCH_FILE) return null;
      throw error;
    }
  }

  /** Same rule as a local folder: created when missing, but only inside an existing folder (an unmounted disk is not silently replaced). */
  private ensureRoot(sftp: SFTPWrapper): Promise<void> {
    this.rootReady ??= (async () => {
      const s = await this.statPath(sftp, this.root);
      if (s?.isDirectory()) return;
      if (s) throw new AppError('connection_failed', `${this.root} on ${this.where} is a file, not a folder: pick a folder for the backups.`);
      try {
        await call((done) => sftp.mkdir(this.root, done));
      } catch (error) {
        if ((await this.statPath(sftp, this.root))?.isDirectory()) return;
        if (statusOf(error) === STATUS_CODE.NO_SUCH_FILE) {
          throw new AppError(
            'connection_failed',
            `The folder ${this.root} does not exist on ${this.where}, and neither does ${posix.dirname(this.root)}: check the remote folder, or that the disk is mounted on the server.`,
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

  /** mkdir -p below the root, then the temp file; retried once because a concurrent delete may prune an emptied folder in between. */
  private async createFile(sftp: SFTPWrapper, dir: string, path: string): Promise<Buffer> {
    for (let attempt = 1; ; attempt++) {
      let sofar = '';
      for (const segment of dir ? dir.split('/') : []) {
        sofar = sofar ? `${sofar}/${segment}` : segment;
        if (this.folders.has(sofar)) continue;
        const folder = posix.join(this.root, sofar);
        try {
          await call((done) => sftp.mkdir(folder, done));
        } catch (error) {
          // OpenSSH answers a plain "failure" for an existing folder; look before concluding.
          if (!(await this.statPath(sftp, folder))?.isDirectory()) throw error;
        }
        this.folders.add(sofar);
      }
      try {
        return await call<Buffer>((done) => sftp.open(path, 'wx', { mode: 0o600 }, done));
      } catch (error) {
        if (statusOf(error) !== STATUS_CODE.NO_SUCH_FILE || attempt >= 2) throw error;
        this.folders.clear();
      }
    }
  }

  private explainConnect(error: unknown): AppError {
    if (error instanceof AppError) return error;
    const e = error as Error & { level?: string; code?: string };
    const who = `'${this.config.username}' on ${this.where}`;
    if (e.level === 'client-authentication') {
      return new AppError('connection_failed', `Authentication failed for ${who}: the server refused the ${this.config.private_key ? (this.config.password ? 'key and password' : 'key') : 'password'}.`);
    }
    if (e.level === 'client-timeout') {
      return new AppError('connection_failed', `${this.where} did not complete the SSH handshake within ${READY_TIMEOUT_MS / 1000} s (timeout): check the host, the port and any firewall.`);
    }
    switch (e.code) {
      case 'ECONNREFUSED':
        return new AppError('connection_failed', `Connection refused by ${this.where}: is the SSH server running, and is the port right?`);
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return new AppError('connection_failed', `Host '${this.config.host}' was not found: check the name.`);
      case 'ETIMEDOUT':
        return new AppError('connection_failed', `${this.where} did not answer (timeout): check the host, the port and any firewall.`);
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return new AppError('connection_failed', `${this.where} is unreachable from this machine: check the address and the network.`);
      case 'ECONNRESET':
        return new AppError('connection_failed', `${this.where} closed the connection: is it an SSH server?`);
    }
    return new AppError('connection_failed', `SSH connection to ${this.where} failed: ${e.message}`);
  }

  private explain(error: unknown): unknown {
    if (error instanceof AppError || isAbortError(error)) return error;
    const status = statusOf(error);
    const message = error instanceof Error ? error.message : String(error);
    if (status === STATUS_CODE.PERMISSION_DENIED) {
      return new AppError('connection_failed', `Permission denied on ${this.where}: let '${this.config.username}' write to ${this.root}, or pick another folder.`);
    }
    if (status === STATUS_CODE.FAILURE) {
      return new AppError('connection_failed', `The SSH server ${this.where} refused a write in ${this.root} (${message}): the disk may be full or the folder not writable.`);
    }
    if (typeof status === 'number') return new AppError('connection_failed', `SFTP on ${this.where}: ${message}`);
    return this.explainConnect(error);
  }
}

/**
 * Writes with many requests in flight: one request per round trip would make an upload over a
 * distant link crawl. At most WRITE_WINDOW bytes wait for the server, so memory stays flat.
 */
class SftpWriter extends Writable {
  private position = 0;
  private inFlight = 0;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly sftp: SFTPWrapper,
    private readonly handle: Buffer,
  ) {
    super({ highWaterMark: PIECE * 4 });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    for (let offset = 0; offset < chunk.length; offset += PIECE) {
      const piece = chunk.subarray(offset, offset + PIECE);
      this.inFlight += piece.length;
      this.sftp.write(this.handle, piece, 0, piece.length, this.position, (error) => {
        this.inFlight -= piece.length;
        if (error) this.failure ??= error;
        this.wake?.();
      });
      this.position += piece.length;
    }
    this.whenBelow(WRITE_WINDOW, done);
  }

  override _final(done: (error?: Error | null) => void): void {
    this.whenBelow(0, (error) => {
      if (error) return done(error);
      try {
        // Durable before visible, where the server can (fsync@openssh.com).
        this.sftp.ext_openssh_fsync(this.handle, (fsyncError) => done(fsyncError ?? null));
      } catch {
        done();
      }
    });
  }

  private whenBelow(limit: number, done: (error?: Error | null) => void): void {
    if (this.failure) return done(this.failure);
    if (this.inFlight <= limit) return done();
    this.wake = () => {
      this.wake = undefined;
      this.whenBelow(limit, done);
    };
  }
}

/** Reads with several requests in flight, delivering bytes in order. */
class SftpReader extends Readable {
  private next = 0;
  private pending: { offset: number; length: number; data: Promise<Buffer> }[] = [];
  private pumping = false;

  constructor(
    private readonly sftp: SFTPWrapper,
    private readonly handle: Buffer,
    private readonly size: number,
  ) {
    super({ highWaterMark: PIECE * READS_IN_FLIGHT });
  }

  override _read(): void {
    void this.pump();
  }

  private request(offset: number, length: number) {
    const data = call<Buffer>((done) =>
      this.sftp.read(this.handle, Buffer.allocUnsafe(length), 0, length, offset, (error, bytes, buffer) => done(error, buffer.subarray(0, bytes))),
    );
    // Awaited in order later; a failure meanwhile must not count as unhandled.
    data.catch(() => undefined);
    return { offset, length, data };
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        while (this.pending.length < READS_IN_FLIGHT && this.next < this.size) {
          const length = Math.min(PIECE, this.size - this.next);
          this.pending.push(this.request(this.next, length));
          this.next += length;
        }
        const head = this.pending[0];
        if (!head) {
          this.push(null);
          return;
        }
        const data = await head.data;
        if (this.destroyed) return;
        if (data.length === 0) throw new Error(`the file ended at byte ${head.offset} of ${this.size}`);
        this.pending.shift();
        // A short read leaves a gap: ask for the rest before anything later is delivered.
        if (data.length < head.length) this.pending.unshift(this.request(head.offset + data.length, head.length - data.length));
        if (!this.push(data)) return;
      }
    } catch (error) {
      this.destroy(error as Error);
    } finally {
      this.pumping = false;
    }
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    try {
      this.sftp.close(this.handle, () => done(error));
    } catch {
      done(error);
    }
  }
}
