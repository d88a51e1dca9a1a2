import type { RecordedContent } from '../../../shared/schemas/drill.js';

/**
 * What of a backup's recorded content its manifest.json may carry. The manifest stays readable: an encrypted
 * backup's names of tables and files (its row counts and sampled hashes) stay in the catalog only, where a drill
 * reads them. A catalog rebuilt from storage then has none, and its drills compare what they can.
 */
export function readableContent<T extends RecordedContent>(metadata: T, encrypted: boolean): Omit<T, 'table_rows' | 'file_samples'> | T {
  if (!encrypted) return metadata;
  const { table_rows: _rows, file_samples: _samples, ...rest } = metadata;
  return rest;
}
