import { executionMetadata, type ExecutionMetadata } from '../../../shared/schemas/execution.js';
import type { ExecutionRow } from './entities.js';

/**
 * An execution's metadata, typed by its kind. The kind is the `operation` column; the stored JSON
 * leaves it out, so the two can never disagree.
 */
export function metadataOf(row: Pick<ExecutionRow, 'operation' | 'metadata'>): ExecutionMetadata {
  return executionMetadata.parse({ ...(row.metadata ?? {}), operation: row.operation });
}

/** The JSON to store for a metadata value: everything but its kind. */
export function storedMetadata(metadata: ExecutionMetadata): Record<string, unknown> {
  const { operation: _kind, ...rest } = metadata;
  return rest;
}
