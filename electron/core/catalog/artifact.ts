import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline as streamPipeline, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../../shared/errors.js';
import { backupFileName } from '../../../shared/words.js';
import type { CoreContext } from '../kernel/context.js';
import { joinParts } from '../restore/join.js';
import { createAgeDecrypter, type KeyPair } from '../kernel/age.js';
import { identitiesFor } from './keys.js';
import { locateBackup } from './locate.js';
import { openSavedStorage } from './storages.js';

export interface Artifact {
  /** The file name a user would expect: `<job>-<date>.<ext>`, e.g. Nightly shop-2026-12-07_023000.dump.gz (`.age` while encrypted). */
  fileName: string;
  size: number | null;
  stream: Readable;
}

export interface OpenOptions {
  /** Decrypt an encrypted backup on the way (the app's key, or `keys`); otherwise it comes as stored. */
  decrypt?: boolean;
  /** Keys pasted for this download only. */
  keys?: KeyPair[];
}

/**
 * A completed backup as one stream, from the first storage copy that answers: as stored (each part's
 * SHA-256 checked on the way), or decrypted when asked and a key at hand opens it (`….dump.zst`, no `.age`).
 */
export async function openArtifact(ctx: Pick<CoreContext, 'db' | 'secrets'>, executionId: string, o: OpenOptions = {}): Promise<Artifact> {
  const { execution, metadata, copies } = await locateBackup(ctx, executionId);
  if (metadata.server) {
    throw new AppError(
      'unsupported',
      "A whole server's backup is a file per database: restore the databases you need, or copy their files from the storage (the manifest names each one)",
    );
  }
  const stored = metadata.artifact ?? path.basename(copies[0]?.chunks[0]?.file_path ?? 'backup').replace(/\.part-\d{3}$/, '');
  const decrypt = o.decrypt && metadata.encryption ? await identitiesFor(ctx, metadata.encryption, o.keys ?? []) : null;
  const artifactName = backupFileName({
    job_name: metadata.job_name ?? null,
    backup_path: execution.backup_path,
    created_at: execution.created_at.toISOString(),
    artifact: decrypt ? stored.replace(/\.age$/, '') : stored,
  });
  const failures: string[] = [];
  for (const copy of copies) {
    const storage = openSavedStorage(ctx, copy.storage);
    try {
      if (!(await storage.stat(copy.chunks[0]!.file_path))) throw new Error('the files are missing');
      const size = copy.chunks.reduce((n, c) => n + Number(c.size_bytes), 0);
      const joined = joinParts(storage, copy.chunks);
      if (!decrypt) return { fileName: artifactName, size, stream: joined };
      // A part that fails its checksum, or bytes that do not authenticate, end the download with the error; a download
      // cut short stops the reading of the parts.
      const decrypted = streamPipeline(joined, createAgeDecrypter(decrypt.map((k) => k.identity)), () => undefined);
      return { fileName: artifactName, size: null, stream: decrypted };
    } catch (e) {
      failures.push(`${copy.storage.name}: ${(e as Error).message}`);
      await storage.close().catch(() => undefined);
    }
  }
  throw new AppError('not_found', `No copy of this backup could be read${failures.length ? ` (${failures.join('; ')})` : ''}`);
}

/** Desktop export: the joined artifact written to a chosen file, atomically. */
export async function exportArtifact(ctx: Pick<CoreContext, 'db' | 'secrets'>, executionId: string, destination: string, o: OpenOptions = {}) {
  const artifact = await openArtifact(ctx, executionId, o);
  const target = path.resolve(destination);
  const temp = `${target}.part-${process.pid}`;
  try {
    await pipeline(artifact.stream, createWriteStream(temp, { flags: 'wx' }));
    await rename(temp, target);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
  return { path: target, size_bytes: (await stat(target)).size };
}
