import type { Readable } from 'node:stream';
import type { StorageType } from '../../../shared/schemas/enums.js';
import type { StorageTestResult } from '../../../shared/schemas/storage.js';

export interface PutOptions {
  signal?: AbortSignal;
  /** Expected size in bytes, when known; S3 picks its part size from it. */
  sizeHint?: number;
  /** Called with the running total of bytes taken from the body. */
  onProgress?: (bytes: number) => void;
}

export interface GetOptions {
  signal?: AbortSignal;
  /** Bytes `start` (inclusive) to `end` (exclusive) of the object; both within its size. */
  range?: { start: number; end: number };
}

export interface StoredObject {
  /** '/'-separated, relative to the storage root. */
  key: string;
  size: number;
  /** ISO 8601. */
  modified: string;
}

/**
 * One place backups are kept. Keys are '/'-separated relative paths such as
 * `{job_id}/{YYYY-MM-DD_HHmmss}/backup.dump.gz.part-001`; a key with `..`, an
 * empty segment or a leading '/' is refused.
 */
export interface Storage {
  readonly type: StorageType;
  /**
   * Atomic: the object appears under `key` only when complete; on failure or abort nothing is
   * left (temp files removed, multipart uploads aborted). Never overwrites an existing key
   * (`conflict`). Returns the bytes written.
   */
  put(key: string, body: Readable, options?: PutOptions): Promise<{ size: number }>;
  /** `not_found` AppError when missing. `range`: only bytes start to end (exclusive), for taking one file out of a backup. */
  get(key: string, options?: GetOptions): Promise<Readable>;
  stat(key: string): Promise<StoredObject | null>;
  /**
   * Recursive, sorted by key; a plain string prefix, as S3 has it ('job/' or 'job/2024-'). On a
   * folder storage, a put cut short by a crash leaves a hidden `.<name>.tmp-<hex>` file: it is
   * listed, so that deleting what a folder lists cleans it up too.
   */
  list(prefix: string): Promise<StoredObject[]>;
  /**
   * Gives an object another key, never replacing one: an existing `to` is a `conflict` (both
   * objects left as they were), a missing `from` is `not_found`. On a folder storage it is atomic;
   * on S3 it is a copy then a delete, so a failure in between may leave both keys.
   */
  rename(from: string, to: string): Promise<void>;
  /** A missing key is fine. */
  delete(key: string): Promise<void>;
  /**
   * Adds text at the end of a log object (`_system/cleanup.log`), creating it when missing. For logs
   * only, never for backup files: a crash may cut a line short, and on S3 (which has no append) two
   * writers racing may lose one of their lines.
   */
  append(key: string, text: string): Promise<void>;
  /**
   * Discards writes under `prefix` that a crash cut short and that the storage keeps apart from its
   * objects, so `list` cannot show them: S3's open multipart uploads, which are billed until aborted.
   * Folder storages keep theirs as hidden temp files that `list` shows; they answer 0. Answers how many.
   */
  abortUnfinishedUploads(prefix: string): Promise<number>;
  /** null when the storage cannot tell (S3, SFTP servers without statvfs). */
  freeSpaceBytes(): Promise<number | null>;
  /** Writes, reads back, compares and deletes a probe under `_system/`; expected failures come back as `ok: false`. */
  test(): Promise<StorageTestResult>;
  close(): Promise<void>;
}
