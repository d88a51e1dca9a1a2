// What ssh2 and the SFTP server answer, said in terms the user can act on.
import { AppError } from '../../../../shared/errors.js';
import { isAbortError } from '../keys.js';

/** SFTP v3 status codes (ssh2's `utils` is not reachable as a named ESM import). */
export const STATUS_CODE = { NO_SUCH_FILE: 2, PERMISSION_DENIED: 3, FAILURE: 4 } as const;
export const READY_TIMEOUT_MS = 20_000;

export const statusOf = (e: unknown): unknown => (e as { code?: unknown } | undefined)?.code;

/** The facts about a storage that its error messages name. */
export interface SftpPlace {
  host: string;
  username: string;
  /** `host:port`. */
  where: string;
  /** The remote folder holding the backups. */
  root: string;
  /** What the login offered: 'key', 'password' or 'key and password'. */
  credentials: string;
}

export function explainConnect(error: unknown, place: SftpPlace): AppError {
  if (error instanceof AppError) return error;
  const e = error as Error & { level?: string; code?: string };
  const { where } = place;
  if (e.level === 'client-authentication') {
    return new AppError('connection_failed', `Authentication failed for '${place.username}' on ${where}: the server refused the ${place.credentials}.`);
  }
  if (e.level === 'client-timeout') {
    return new AppError(
      'connection_failed',
      `${where} did not complete the SSH handshake within ${READY_TIMEOUT_MS / 1000} s (timeout): check the host, the port and any firewall.`,
    );
  }
  switch (e.code) {
    case 'ECONNREFUSED':
      return new AppError('connection_failed', `Connection refused by ${where}: is the SSH server running, and is the port right?`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new AppError('connection_failed', `Host '${place.host}' was not found: check the name.`);
    case 'ETIMEDOUT':
      return new AppError('connection_failed', `${where} did not answer (timeout): check the host, the port and any firewall.`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new AppError('connection_failed', `${where} is unreachable from this machine: check the address and the network.`);
    case 'ECONNRESET':
      return new AppError('connection_failed', `${where} closed the connection: is it an SSH server?`);
  }
  return new AppError('connection_failed', `SSH connection to ${where} failed: ${e.message}`);
}

/** Any failure of an operation; AppErrors and aborts pass unchanged. */
export function explain(error: unknown, place: SftpPlace): unknown {
  if (error instanceof AppError || isAbortError(error)) return error;
  const status = statusOf(error);
  const message = error instanceof Error ? error.message : String(error);
  if (status === STATUS_CODE.PERMISSION_DENIED) {
    return new AppError('connection_failed', `Permission denied on ${place.where}: let '${place.username}' write to ${place.root}, or pick another folder.`);
  }
  if (status === STATUS_CODE.FAILURE) {
    return new AppError(
      'connection_failed',
      `The SSH server ${place.where} refused a write in ${place.root} (${message}): the disk may be full or the folder not writable.`,
    );
  }
  if (typeof status === 'number') return new AppError('connection_failed', `SFTP on ${place.where}: ${message}`);
  return explainConnect(error, place);
}
