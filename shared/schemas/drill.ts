import { z } from 'zod';

/** Rows of one table when it was backed up. `estimated`: not counted in the dump's own snapshot (the server's estimate, or counted beside it). */
export const tableRows = z.object({
  table: z.string().max(1000),
  rows: z.number().int().min(0),
  estimated: z.boolean(),
});
export type TableRows = z.output<typeof tableRows>;

/** A file of a folder backup with its SHA-256 as it was archived: a drill hashes it again after the restore. */
export const fileSample = z.object({ path: z.string().max(4096), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
export type FileSample = z.output<typeof fileSample>;

/**
 * What a backup records of its content for a later drill to check against, in the catalog and in manifest.json.
 * Bounded: a manifest is read from a storage anyone may have written to.
 */
export const recordedContent = {
  table_rows: z.array(tableRows).max(100_000).optional(),
  /** folders: the bytes of the regular files archived (files_count counts them, links included). */
  files_bytes: z.number().int().min(0).optional(),
  file_samples: z.array(fileSample).max(64).optional(),
};
export const recordedContentSchema = z.object(recordedContent);
export type RecordedContent = z.output<typeof recordedContentSchema>;
