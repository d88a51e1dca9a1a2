import { z } from 'zod';
import { uuid } from './common.js';

/*
 * A backup's table of contents: what is inside it, written at backup time beside the parts, so that a user can look
 * inside a backup and take one thing out without reading the rest. It is a help, never the truth: a restore of the
 * whole backup ignores it, and one that does not match its checksum or points outside the archive is not used.
 * It is read from a storage anyone may have written to, so every field is bounded.
 */

const offset = z
  .number()
  .int()
  .min(0)
  .max(2 ** 50);
const name = z.string().max(4096);

/** One entry of a folder backup's tar, where it starts (its first header block) and where its bytes start. */
export const tocFileEntry = z.object({
  path: name,
  type: z.enum(['file', 'directory', 'symlink', 'hardlink']),
  size: offset,
  mode: z.number().int().min(0).max(0o7777),
  /** ISO 8601. */
  mtime: z.string().max(40),
  link: name.nullable(),
  /** The entry's first header block, in the uncompressed tar. */
  offset,
  /** Its first byte of data, in the uncompressed tar. */
  data: offset,
});
export type TocFileEntry = z.output<typeof tocFileEntry>;

/** Database objects, as the dump holds them. */
export const tocTable = z.object({
  schema: name.nullable(),
  name,
  /** TABLE, VIEW, SEQUENCE, INDEX, FUNCTION, TRIGGER… as the engine's tools say it. */
  kind: z.string().max(100),
  /** The table's row count (sqlite: counted; postgres, mysql: the server's estimate). */
  rows: z.number().int().min(-1).nullable(),
  bytes: offset.nullable(),
  /** mysql: the table's section of the dump (structure, data and triggers), in the uncompressed dump. */
  range: z.tuple([offset, offset]).nullable(),
  /** postgres: the archive's dump id, for `pg_restore --use-list`. */
  dump_id: z.number().int().min(0).nullable(),
});
export type TocTable = z.output<typeof tocTable>;

/**
 * Where each independently compressed frame starts: in the uncompressed stream (`raw`) and in the compressed one
 * (`stored`; for an encrypted backup, in the age payload's plaintext). Any byte range of the uncompressed stream can be
 * read from the frames that hold it, each checked against its SHA-256 (of its compressed bytes).
 */
export const frameMap = z.array(z.tuple([offset, offset, z.string().regex(/^[0-9a-f]{64}$/)])).max(10_000_000);

export const tocSchema = z.object({
  version: z.literal(1),
  kind: z.enum(['files', 'tables']),
  files: z.array(tocFileEntry).max(50_000_000).optional(),
  tables: z.array(tocTable).max(10_000_000).optional(),
  /** Absent when the stream is not compressed in frames (compression `none`: offsets are the same). */
  frames: frameMap.optional(),
  /** The uncompressed size, for range checks. */
  raw_bytes: offset,
  /** What could not be recorded, for the user to read. */
  note: z.string().max(2000).optional(),
});
export type Toc = z.output<typeof tocSchema>;

/** What a manifest and the catalog say of a backup's stored table of contents (a file beside the parts). */
export const tocReference = z.object({
  file: z
    .string()
    .min(1)
    .max(255)
    .refine((n) => n !== '.' && n !== '..' && !/[/\\\0]/.test(n), { message: 'must be a plain file name' }),
  size_bytes: z
    .number()
    .int()
    .min(0)
    .max(2 ** 50),
  checksum: z.string().regex(/^sha256:[0-9a-f]{64}$/),
});
export type TocReference = z.output<typeof tocReference>;

/**
 * A path inside a folder backup, as the user picks it: relative, `/`-separated, never climbing out (`..`), never
 * absolute, never a NUL. The same rule serves browsing and taking out.
 */
export const backupPath = z
  .string()
  .max(4096)
  .refine((p) => !p.includes('\0'), { message: 'must not contain a NUL character' })
  .refine((p) => !p.startsWith('/') && !p.startsWith('\\') && !/^[A-Za-z]:/.test(p), { message: 'must be relative to the backup (no leading /)' })
  .refine((p) => !p.split(/[/\\]/).includes('..'), { message: 'must not climb out of the backup (..)' })
  .transform((p) => p.replace(/\/+$/, ''));

/**
 * A table of a database backup, as its Contents list it (`path`: `schema.table` for PostgreSQL, the table's name for
 * MySQL/MariaDB and SQLite). It is matched against the backup's own list, never put into SQL or a command line; a
 * control character (a NUL, a newline that would start another line of pg_restore's list) is refused at the boundary.
 */
export const backupTableName = z
  .string()
  .min(1, { message: 'must name a table of the backup' })
  .max(1024)
  // eslint-disable-next-line no-control-regex
  .refine((n) => !/[\u0000-\u001f\u007f]/.test(n), { message: 'must not contain control characters (NUL, newline…)' });

/** `GET /api/backups/:id/entries`: one page of a folder backup's tree (or of a search), or of a database backup's tables. */
export const entriesInput = z.object({
  id: uuid,
  /** The folder to list (files), or the schema (databases); empty: the top. */
  path: backupPath.default(''),
  /** Names containing this (case-insensitive), anywhere below `path`. */
  q: z.string().trim().max(200).default(''),
  /** Where the last page ended (from `next_cursor`). */
  cursor: z
    .string()
    .regex(/^\d{1,9}$/, { message: 'must be a cursor from an earlier page' })
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(200),
  /** Of a whole server's backup: which database's tables (its name as the backup lists it). */
  database: z.string().min(1).max(255).optional(),
});

/** `GET /api/backups/:id/file?path=`: one file of a folder backup, streamed and decrypted. */
export const backupFileInput = z.object({ id: uuid, path: backupPath.refine((p) => p !== '', { message: 'must name a file of the backup' }) });

/** `GET /api/backups/:id/table.csv?name=`: one table of a database backup as CSV, streamed. */
export const backupTableInput = z.object({ id: uuid, name: backupTableName });

export const backupEntryItem = z.object({
  /** The last part of the path, as shown. */
  name: z.string(),
  /** Relative to the backup (files), or `schema.name` (databases): what `paths` or `tables` takes. */
  path: z.string(),
  /** file, directory, symlink, hardlink; or the database object's kind (TABLE, VIEW…). */
  type: z.string(),
  size: z.number().nullable(),
  mtime: z.string().nullable(),
  mode: z.number().nullable(),
  link: z.string().nullable(),
  schema: z.string().nullable(),
  rows: z.number().nullable(),
});
export type BackupEntryItem = z.output<typeof backupEntryItem>;

export const entriesPage = z.object({
  kind: z.enum(['files', 'tables']),
  /** `toc`: the table of contents written with the backup; `archive`: read from the backup itself (one written before them). */
  source: z.enum(['toc', 'archive']),
  /** What the user should know about this listing (no table of contents, one not used and why). */
  message: z.string().nullable(),
  entries: z.array(backupEntryItem),
  /** How many match in all (listing or search). */
  total: z.number().int(),
  next_cursor: z.string().nullable(),
});
export type EntriesPage = z.output<typeof entriesPage>;
