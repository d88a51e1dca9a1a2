import type { Readable } from 'node:stream';
import type { z } from 'zod';
import { AppError } from '../../../shared/errors.js';
import type { importResult } from '../../../shared/schemas/restore.js';
import { sourceInfo, type BackupMetadata, type ServerBackup } from '../../../shared/schemas/execution.js';
import { MANIFEST_MAX_BYTES, parseManifest, type Manifest } from '../backup/manifest.js';
import { BackupChunks, BackupCopies, BackupExecutions, BackupJobs, Datasources, type StorageRow } from '../db/entities.js';
import { storedMetadata } from '../db/metadata.js';
import type { CoreContext } from '../kernel/context.js';
import { openSavedStorage } from './storages.js';

type ImportResult = z.output<typeof importResult>;

const MANIFEST = /^(.+)\/manifest\.json$/;
const bare = (checksum: string) => checksum.replace(/^sha256:/, '');

/**
 * Rebuilds the catalog from a storage: every `manifest.json` whose parts are all there becomes a
 * completed backup (or a second copy of one already known). The job and datasource are linked when
 * they exist here; otherwise their names come from the manifest.
 */
export async function importFromStorage(ctx: CoreContext, storageRow: StorageRow): Promise<ImportResult> {
  const storage = openSavedStorage(ctx, storageRow);
  const result: ImportResult = { manifests_found: 0, added: 0, already_known: 0, skipped: [] };
  try {
    const objects = await storage.list('');
    const sizes = new Map(objects.map((o) => [o.key, o.size]));
    for (const object of objects) {
      const folder = MANIFEST.exec(object.key)?.[1];
      if (!folder) continue;
      result.manifests_found++;
      let manifest: Manifest;
      try {
        // The listing's size first, then a capped read: the size a listing gives may not be the size read.
        if (object.size > MANIFEST_MAX_BYTES) throw tooLarge(object.size);
        manifest = parseManifest(await readCapped(await storage.get(object.key), MANIFEST_MAX_BYTES));
      } catch (e) {
        const why = e instanceof AppError && e.code === 'validation_error' ? 'Not a DataGuardian manifest' : 'Could not be read';
        result.skipped.push({ path: object.key, reason: `${why}: ${(e as Error).message.slice(0, 300)}` });
        continue;
      }
      const absent = manifest.chunks.find((c) => sizes.get(`${folder}/${c.file}`) !== c.size_bytes);
      if (absent) {
        result.skipped.push({ path: object.key, reason: `${absent.file} is missing or has the wrong size` });
        continue;
      }
      try {
        if (await adopt(ctx, storageRow, folder, manifest)) result.added++;
        else result.already_known++;
      } catch (e) {
        // One manifest the catalog refuses (two copies naming the same part, say) must not stop the rest.
        result.skipped.push({ path: object.key, reason: `Could not be recorded: ${(e as Error).message.slice(0, 300)}` });
      }
    }
  } finally {
    await storage.close().catch(() => undefined);
  }
  return result;
}

const tooLarge = (size: number | null) =>
  new AppError('validation_error', `${size === null ? 'it is' : `${size} bytes,`} over the ${MANIFEST_MAX_BYTES / 1024 / 1024} MB a manifest may weigh`);

/** The stream as text, refused (and the rest left unread) once it passes `max` bytes. */
async function readCapped(stream: Readable, max: number): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buffer.length;
      if (size > max) throw tooLarge(null);
      parts.push(buffer);
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(parts).toString('utf8');
}

/** A whole server's manifest as the catalog records it (metadata.server), and whether some database failed in it. */
function serverOf(manifest: Manifest): { server: ServerBackup; partial: boolean } | null {
  const s = manifest.server;
  if (!s) return null;
  const server: ServerBackup = {
    databases: s.databases.map((d) => ({
      name: d.name,
      artifact: d.artifact,
      status: d.status,
      error: d.error,
      size_bytes: d.total_size_bytes,
      compressed_size_bytes: d.compressed_size_bytes,
      checksum: d.checksum,
      parts: d.chunks.length,
      duration_ms: d.duration_ms,
      source: sourceInfo.catch({}).parse(d.metadata),
    })),
    globals: { artifact: manifest.artifact, status: s.globals_status, error: null, notes: s.globals_notes },
    added: [],
    gone: [],
    parallel_databases: 1,
  };
  return { server, partial: s.globals_status === 'failed' || s.databases.some((d) => d.status === 'failed') };
}

/** Adds the backup, or only this storage's copy when the backup is known; false when nothing was new. */
async function adopt(ctx: CoreContext, storageRow: StorageRow, folder: string, manifest: Manifest): Promise<boolean> {
  return ctx.db.transaction(async (m) => {
    const executions = m.getRepository(BackupExecutions);
    const copies = m.getRepository(BackupCopies);
    const copy = {
      execution_id: manifest.execution_id,
      storage_location_id: storageRow.id,
      status: 'completed' as const,
      backup_path: folder,
      error_message: null,
    };
    const known = await executions.findOneBy({ id: manifest.execution_id });
    if (known?.deleted_at) {
      // Its record says it is gone (retention or a user removed it): a stray copy does not bring it back.
      throw new AppError(
        'conflict',
        `this backup was deleted on ${known.deleted_at.toISOString().slice(0, 10)}; its record is kept, this copy is left as it is`,
      );
    }
    if (known) {
      if (await copies.existsBy({ execution_id: manifest.execution_id, storage_location_id: storageRow.id })) return false;
      await copies.insert(copy);
      return true;
    }
    const jobKnown = await m.getRepository(BackupJobs).existsBy({ id: manifest.job_id });
    const datasourceKnown = manifest.datasource_id ? await m.getRepository(Datasources).existsBy({ id: manifest.datasource_id }) : false;
    const createdAt = new Date(manifest.created_at);
    await executions.insert({
      id: manifest.execution_id,
      job_id: jobKnown ? manifest.job_id : null,
      datasource_id: datasourceKnown ? manifest.datasource_id! : null,
      storage_location_id: storageRow.id,
      status: serverOf(manifest)?.partial ? 'partial' : 'completed',
      started_at: createdAt,
      finished_at: createdAt,
      size_bytes: String(manifest.total_size_bytes),
      compressed_size_bytes: String(manifest.compressed_size_bytes),
      backup_path: folder,
      backup_type: manifest.backup_type,
      files_count: typeof manifest.metadata.files_count === 'number' ? manifest.metadata.files_count : null,
      created_at: createdAt,
      operation: 'backup',
      metadata: storedMetadata({
        // What the engine told of the source, as far as it is one of the fields we know.
        ...sourceInfo.catch({}).parse(manifest.metadata),
        operation: 'backup',
        imported_from: storageRow.name,
        imported_at: ctx.clock.now().toISOString(),
        job_name: manifest.job_name ?? null,
        datasource_name: manifest.datasource_name ?? null,
        datasource_type: manifest.datasource_type,
        // The Backups tab groups an unknown datasource's backups under the id it had where they were made.
        original_datasource_id: manifest.datasource_id ?? null,
        artifact: manifest.artifact,
        compression: manifest.compression,
        // Public keys only: an encrypted backup imports without a key; restoring it needs one.
        ...(manifest.encryption ? { encryption: manifest.encryption } : {}),
        ...(manifest.toc ? { toc: manifest.toc } : {}),
        compression_ratio: manifest.compression_ratio,
        checksum: manifest.checksum,
        ...(manifest.server ? { server: serverOf(manifest)!.server } : {}),
        execution_logs: [],
      } satisfies BackupMetadata),
    });
    // A whole server's backup: the globals' parts, then each database's, as the run recorded them.
    const chunks = [...manifest.chunks, ...(manifest.server?.databases.flatMap((d) => d.chunks) ?? [])];
    await m.getRepository(BackupChunks).insert(
      chunks.map((c, i) => ({
        execution_id: manifest.execution_id,
        chunk_number: i + 1,
        file_path: `${folder}/${c.file}`,
        size_bytes: String(c.size_bytes),
        checksum: bare(c.checksum),
      })),
    );
    await copies.insert(copy);
    return true;
  });
}
