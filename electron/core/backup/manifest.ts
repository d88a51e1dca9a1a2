import { z } from 'zod';
import { COMPRESSIONS, DATASOURCE_TYPES } from '../../../shared/schemas/enums.js';
import { appVersion } from '../kernel/app-version.js';
import type { WrittenArtifact } from './pipeline.js';

const sha = z.string().regex(/^sha256:[0-9a-f]{64}$/);

/** The seed's manifest.json (monitoring-layout-rollback.md §3), plus what a catalog rebuild needs. */
export const manifestSchema = z.object({
  version: z.literal('1.0'),
  created_at: z.string(),
  execution_id: z.string(),
  job_id: z.string(),
  job_name: z.string().optional(),
  datasource_id: z.string().optional(),
  datasource_name: z.string().optional(),
  datasource_type: z.enum(DATASOURCE_TYPES),
  backup_type: z.enum(['full', 'incremental', 'differential']),
  compression: z.enum(COMPRESSIONS),
  artifact: z.string(),
  total_size_bytes: z.number(),
  compressed_size_bytes: z.number(),
  compression_ratio: z.number().nullable(),
  checksum: sha,
  chunks: z.array(z.object({ number: z.number().int().min(1), file: z.string(), size_bytes: z.number(), checksum: sha })).min(1),
  metadata: z.record(z.string(), z.unknown()),
  app_version: z.string().optional(),
});
export type Manifest = z.output<typeof manifestSchema>;

export function buildManifest(o: {
  executionId: string;
  job: { id: string; name: string };
  datasource: { id: string; name: string; type: Manifest['datasource_type'] };
  createdAt: Date;
  compression: Manifest['compression'];
  artifact: string;
  written: WrittenArtifact;
  metadata: Record<string, unknown>;
}): Manifest {
  const { raw, stored, parts } = o.written;
  return {
    version: '1.0',
    created_at: o.createdAt.toISOString(),
    execution_id: o.executionId,
    job_id: o.job.id,
    job_name: o.job.name,
    datasource_id: o.datasource.id,
    datasource_name: o.datasource.name,
    datasource_type: o.datasource.type,
    backup_type: 'full',
    compression: o.compression,
    artifact: o.artifact,
    total_size_bytes: raw.bytes,
    compressed_size_bytes: stored.bytes,
    compression_ratio: raw.bytes > 0 ? Number((stored.bytes / raw.bytes).toFixed(4)) : null,
    checksum: `sha256:${stored.sha256}`,
    chunks: parts.map((p) => ({ number: p.number, file: p.file, size_bytes: p.size, checksum: `sha256:${p.sha256}` })),
    metadata: Object.fromEntries(Object.entries(o.metadata).filter(([, v]) => v !== undefined)),
    app_version: appVersion(),
  };
}

/** Reads a manifest found on a storage; throws with the reason when it is not one of ours. */
export function parseManifest(text: string): Manifest {
  return manifestSchema.parse(JSON.parse(text));
}
