// The SSH connection behind an SFTP storage: opened on first use and again after it drops,
// with the server's host key checked against the saved fingerprint (trusted on first use).
import { createHash } from 'node:crypto';
import { Client, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { AppError } from '../../../../shared/errors.js';
import type { StorageConfig } from '../../../../shared/schemas/storage.js';
import { scoped } from '../../kernel/log.js';
import { explainConnect, READY_TIMEOUT_MS, type SftpPlace } from './errors.js';

const log = scoped('storage');

export interface Session {
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
  const norm = (s: string) =>
    s
      .trim()
      .replace(/^SHA256:/i, '')
      .replace(/=+$/, '');
  return norm(a) === norm(b);
};

/** Promise form of ssh2's callback API. */
export function call<T = void>(start: (done: (error: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value as T))));
}

/** One connection per storage object. */
export class SftpConnection {
  private session: Promise<Session> | undefined;
  /** The client behind `session`, so a late 'close' of an old connection does not drop a newer one. */
  private current: Client | undefined;
  /** The host key the server last showed, checked or not; a test reports it. */
  seenFingerprint: string | undefined;

  constructor(
    private readonly config: StorageConfig<'ssh'>,
    private readonly place: SftpPlace,
    private readonly options: HostKeyOptions,
    /** Called whenever a connection closes, so what was known about it is forgotten. */
    private readonly onClose: () => void,
  ) {}

  connect(): Promise<Session> {
    this.session ??= this.open().catch((error: unknown) => {
      this.session = undefined;
      throw error;
    });
    return this.session;
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

  private async open(): Promise<Session> {
    const { config, place } = this;
    const expected = config.host_key_fingerprint?.trim() || undefined;
    let refusedKey: AppError | undefined;
    const session = await new Promise<Session>((resolve, reject) => {
      const client = new Client();
      let settled = false;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        client.end();
        reject(refusedKey ?? explainConnect(error, place));
      };
      client.on('ready', () => {
        client.sftp((error, sftp) => {
          if (error) return fail(error);
          settled = true;
          resolve({ client, sftp });
        });
      });
      client.on('error', (error) => {
        if (settled) log.warn(`SSH connection to ${place.where} failed: ${error.message}`);
        fail(error);
      });
      client.on('close', () => {
        fail(new Error('The SSH server closed the connection during the login'));
        if (this.session && this.current === client) this.session = undefined;
        this.onClose();
      });
      this.current = client;
      const settings: ConnectConfig = {
        host: config.host,
        port: config.port,
        username: config.username,
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
      if (config.password) settings.password = config.password;
      if (config.private_key) settings.privateKey = config.private_key;
      if (config.passphrase) settings.passphrase = config.passphrase;
      try {
        client.connect(settings);
      } catch (error) {
        // ssh2 parses the private key synchronously.
        fail(
          new AppError(
            'validation_error',
            `The private key could not be read (${(error as Error).message.replace(/^Cannot parse privateKey: /, '')}): check the key and its passphrase.`,
          ),
        );
      }
    });
    if (!expected && this.seenFingerprint) {
      try {
        await this.options.onHostKey?.(this.seenFingerprint);
      } catch (error) {
        // The connection is sound; only the remembering failed, so the next connection asks again.
        log.warn(`Could not remember the host key of ${place.where}: ${(error as Error).message}`);
      }
    }
    return session;
  }
}
