// What every storage shares: key rules, temp names, the recursive listing of
// folder-based storages, and byte counting.
import { randomBytes } from 'node:crypto';
import { Transform } from 'node:stream';
import { AppError } from '../../../shared/errors.js';
import type { StoredObject } from './types.js';

const BAD_SEGMENTS = new Set(['', '.', '..']);

/** A key is a relative '/'-separated path; anything that could step outside the storage root is refused. */
export function checkKey(key: string): string {
  const bad =
    typeof key !== 'string' ||
    key.startsWith('/') ||
    key.includes('\\') ||
    key.includes('\0') ||
    /^[A-Za-z]:/.test(key) ||
    key.split('/').some((segment) => BAD_SEGMENTS.has(segment));
  if (bad) {
    throw new AppError('validation_error', `Invalid storage key '${key}': use a relative path with '/' between names, without '..' or empty names.`);
  }
  return key;
}

/** A list prefix: '' (everything), a folder ('job/') or the start of a name ('job/2024-'). */
export function checkPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  checkKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix;
}

/** Parent folder of a key, '' at the root. */
export const parentOf = (key: string): string => key.slice(0, Math.max(0, key.lastIndexOf('/')));

/** Hidden, unique, and beside the target, so the final rename stays on one filesystem. */
export const tempName = (name: string): string => `.${name}.tmp-${randomBytes(6).toString('hex')}`;

export function conflict(key: string): AppError {
  return new AppError('conflict', `'${key}' already exists on this storage; a backup is never overwritten.`);
}

export function missing(key: string): AppError {
  return new AppError('not_found', `'${key}' is not on this storage.`);
}

export const isAbortError = (e: unknown): boolean => e instanceof Error && e.name === 'AbortError';

/** The error a put or get ends with when its signal fires. */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (isAbortError(reason)) return reason as Error;
  return Object.assign(new Error('The operation was aborted', { cause: reason }), { name: 'AbortError' });
}

export interface DirEntry {
  name: string;
  isDirectory: boolean;
  isFile: boolean;
  size: number;
  modified: Date;
}

/**
 * Recursive listing for folder-based storages, with S3's prefix semantics. `readDir` gets a
 * folder relative to the root ('' is the root) and answers null when it does not exist.
 */
export async function listTree(readDir: (dir: string) => Promise<DirEntry[] | null>, prefix: string): Promise<StoredObject[]> {
  const found: StoredObject[] = [];
  async function walk(dir: string): Promise<void> {
    for (const entry of (await readDir(dir)) ?? []) {
      if (entry.name === '.' || entry.name === '..') continue;
      const key = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory) {
        if (`${key}/`.startsWith(prefix)) await walk(key);
      } else if (entry.isFile && key.startsWith(prefix)) {
        found.push({ key, size: entry.size, modified: entry.modified.toISOString() });
      }
    }
  }
  // Start at the deepest folder the prefix names: 'a/b/c' can only match inside 'a/b'.
  await walk(parentOf(prefix));
  return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Passes bytes through unchanged and counts them. */
export class ByteCounter extends Transform {
  bytes = 0;
  constructor(private readonly onProgress?: (bytes: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null, data?: Buffer) => void): void {
    this.bytes += chunk.length;
    this.onProgress?.(this.bytes);
    done(null, chunk);
  }
}
