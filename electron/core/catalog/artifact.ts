import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../../shared/errors.js';
import { backupFileName } from '../../../shared/words.js';
import type { CoreContext } from '../kernel/context.js';
import { joinParts } from '../restore/join.js';
import { locateBackup } from './locate.js';
import { openSavedStorage } from './storages.js';

export interface Artifact {
  /** The file name a user would expect: `<job>-<date>.<ext>`, e.g. Nightly shop-2026-12-07_023000.dump.gz. */
  fileName: string;
  size: number;
  stream: Readable;
}

/** A completed backup as one stream, from the first storage copy that answers. */
export async function openArtifact(ctx: Pick<CoreContext, 'db' | 'secrets'>, executionId: string): Promise<Artifact> {
  const { execution, metadata, copies } = await locateBackup(ctx, executionId);
  const artifactName = backupFileName({
    job_name: metadata.job_name ?? null,
    backup_path: execution.backup_path,
    created_at: execution.created_at.toISOString(),
    artifact: metadata.artifact ?? path.basename(copies[0]?.chunks[0]?.file_path ?? 'backup').replace(/\.part-\d{3}$/, ''),
  });
  const failures: string[] = [];
  for (const copy of copies) {
    const storage = openSavedStorage(ctx, copy.storage);
    try {
      if (!(await storage.stat(copy.chunks[0]!.file_path))) throw new Error('the files are missing');
      const size = copy.chunks.reduce((n, c) => n + Number(c.size_bytes), 0);
      return { fileName: artifactName, size, stream: joinParts(storage, copy.chunks) };
    } catch (e) {
      failures.push(`${copy.storage.name}: ${(e as Error).message}`);
      await storage.close().catch(() => undefined);
    }
  }
  throw new AppError('not_found', `No copy of this backup could be read${failures.length ? ` (${failures.join('; ')})` : ''}`);
}

/** Desktop export: the joined artifact written to a chosen file, atomically. */
export async function exportArtifact(ctx: Pick<CoreContext, 'db' | 'secrets'>, executionId: string, destination: string) {
  const artifact = await openArtifact(ctx, executionId);
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
