import { z } from 'zod';
import { AppError, issuesFromZod } from '../../../shared/errors.js';
import { backupEncryption, type BackupEncryption } from '../../../shared/schemas/encryption.js';
import { COMPRESSIONS, DATASOURCE_TYPES } from '../../../shared/schemas/enums.js';
import { tocReference, type TocReference } from '../../../shared/schemas/toc.js';
import { appVersion } from '../kernel/app-version.js';
import type { WrittenArtifact } from './pipeline.js';

const sha = z.string().regex(/^sha256:[0-9a-f]{64}$/);
const uuid = z.uuid({ message: 'must be a uuid' });
const when = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date' });
/** 1 PiB: far above any backup, low enough that sums of sizes stay exact in a double. */
const bytes = z
  .number()
  .int()
  .min(0)
  .max(2 ** 50);
const label = z.string().max(1000);
/**
 * A file name inside the backup's folder, as the backup wrote it: joined to that folder to read
 * the parts and offered as a download name, so it may not name another folder.
 */
const plainName = z
  .string()
  .min(1)
  .max(255)
  .refine((n) => n !== '.' && n !== '..' && !/[/\\\0]/.test(n), { message: 'must be a plain file name (no "/", "\\" or "..")' });

const chunk = z.object({ number: z.number().int().min(1).max(1_000_000), file: plainName, size_bytes: bytes, checksum: sha });
const chunkList = z
  .array(chunk)
  .min(1)
  .max(100_000)
  .refine((chunks) => chunks.every((c, i) => c.number === i + 1), { message: 'must be numbered 1, 2, 3… in order' })
  .refine((chunks) => new Set(chunks.map((c) => c.file)).size === chunks.length, { message: 'must each name a different file' });

/** The most a manifest may weigh: one with thousands of parts is well under it; reading stops past it. */
export const MANIFEST_MAX_BYTES = 1024 * 1024;

/**
 * The seed's manifest.json (monitoring-layout-rollback.md §3), plus what a catalog rebuild needs.
 * A manifest is read from a storage anyone may have written to, so every field is bounded.
 */
export const manifestSchema = z.object({
  version: z.literal('1.0'),
  created_at: when,
  execution_id: uuid,
  job_id: uuid,
  job_name: label.optional(),
  datasource_id: uuid.optional(),
  datasource_name: label.optional(),
  datasource_type: z.enum(DATASOURCE_TYPES),
  backup_type: z.enum(['full', 'incremental', 'differential']),
  compression: z.enum(COMPRESSIONS),
  /** The compressed stream is one age stream (the parts joined); sizes and checksums are of the encrypted bytes. Public keys only. */
  encryption: backupEncryption.optional(),
  artifact: plainName,
  total_size_bytes: bytes,
  compressed_size_bytes: bytes,
  compression_ratio: z.number().min(0).max(1e6).nullable(),
  checksum: sha,
  chunks: chunkList,
  metadata: z.record(z.string(), z.unknown()),
  app_version: label.optional(),
  /** The table of contents beside the parts (what is inside, for browsing and taking one thing out); encrypted like them. */
  toc: tocReference.optional(),
  /**
   * A whole server's backup: `artifact` and `chunks` above are its globals (roles, grants); each database is an
   * artifact of its own, listed here with its real name, its file, size, checksum, parts, duration and status.
   */
  server: z
    .object({
      databases: z
        .array(
          z.object({
            name: label,
            artifact: plainName,
            status: z.enum(['completed', 'failed']),
            error: label.nullable(),
            total_size_bytes: bytes,
            compressed_size_bytes: bytes,
            checksum: sha.nullable(),
            chunks: z.array(chunk).max(100_000),
            duration_ms: z
              .number()
              .int()
              .min(0)
              .max(2 ** 50),
            metadata: z.record(z.string(), z.unknown()),
          }),
        )
        .max(10_000),
      globals_status: z.enum(['completed', 'failed']),
      globals_notes: z.array(label).max(100),
    })
    .optional(),
});
export type Manifest = z.output<typeof manifestSchema>;

export function buildManifest(o: {
  executionId: string;
  job: { id: string; name: string };
  datasource: { id: string; name: string; type: Manifest['datasource_type'] };
  createdAt: Date;
  compression: Manifest['compression'];
  encryption?: BackupEncryption;
  artifact: string;
  written: WrittenArtifact;
  metadata: Record<string, unknown>;
  toc?: TocReference;
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
    ...(o.encryption ? { encryption: o.encryption } : {}),
    artifact: o.artifact,
    total_size_bytes: raw.bytes,
    compressed_size_bytes: stored.bytes,
    compression_ratio: raw.bytes > 0 ? Number((stored.bytes / raw.bytes).toFixed(4)) : null,
    checksum: `sha256:${stored.sha256}`,
    chunks: parts.map((p) => ({ number: p.number, file: p.file, size_bytes: p.size, checksum: `sha256:${p.sha256}` })),
    metadata: Object.fromEntries(Object.entries(o.metadata).filter(([, v]) => v !== undefined)),
    app_version: appVersion(),
    ...(o.toc ? { toc: o.toc } : {}),
  };
}

/** Reads a manifest found on a storage; throws an AppError saying what is wrong when it is not one of ours. */
export function parseManifest(text: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new AppError('validation_error', `not JSON (${(e as Error).message.slice(0, 120)})`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issues = issuesFromZod(parsed.error);
  throw new AppError('validation_error', issues.map((i) => `${i.path || '(root)'} ${i.message}`).join('; '), issues);
}
