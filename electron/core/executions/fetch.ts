import { mkdtemp, rm } from 'node:fs/promises';
import { counted } from '../../../shared/format.js';
import path from 'node:path';
import { AppError } from '../../../shared/errors.js';
import { isPartOf } from '../backup/layout.js';
import { appIdentities, identitiesFor, keyRequired } from '../catalog/keys.js';
import { locateBackup, type LocatedBackup } from '../catalog/locate.js';
import { openSavedStorage } from '../catalog/storages.js';
import { AgeError, type KeyPair } from '../kernel/age.js';
import type { CoreContext } from '../kernel/context.js';
import type { RestoreSource } from '../engines/types.js';
import { proveCopy } from '../restore/download.js';
import type { Progress, Say } from './report.js';

export interface FetchedBackup {
  backup: LocatedBackup;
  /** The artifact (a pg_dump file, SQL, an SQLite file, a tar) of the proven copy, decoded as it is read. */
  source: RestoreSource;
  copy: { storage_location_id: string; storage_name: string };
  cleanup(): Promise<void>;
}

export interface FetchOptions {
  /** Only this storage's copy; otherwise each completed copy in turn until one verifies. */
  storageId?: string | null;
  tempDir: string;
  signal: AbortSignal;
  say: Say;
  progress: Progress;
  /** Keys pasted for this run (the recovery key in write-only mode); the app's own are added. */
  keys?: KeyPair[];
  /** One artifact of a whole server's backup (a database, the globals): only its parts, checked against its checksum (and its size when known). */
  artifact?: { file: string; checksum: string; bytes?: number };
}

/**
 * Proves a backup's copy before anything else happens (every checksum, and the key opens it), keeping
 * what it needs in a private temp folder. A copy that fails is named and the next one tried. The target
 * is not touched here; the restore then reads the artifact decoded from the proven bytes.
 */
export async function fetchVerified(ctx: Pick<CoreContext, 'db' | 'secrets'>, backupId: string, o: FetchOptions): Promise<FetchedBackup> {
  const backup = await locateBackup(ctx, backupId);
  const copies = o.artifact
    ? backup.copies.map((c) => ({ ...c, chunks: c.chunks.filter((p) => isPartOf(path.posix.basename(p.file_path), o.artifact!.file)) }))
    : backup.copies;
  const chosen = o.storageId ? copies.filter((c) => c.storage.id === o.storageId) : copies;
  if (chosen.length === 0) {
    throw new AppError(
      'not_found',
      o.storageId ? 'This backup has no completed copy on the chosen storage' : 'This backup has no completed copy on any storage',
    );
  }
  const { compression } = backup.metadata;
  const checksum = o.artifact?.checksum ?? backup.metadata.checksum;
  const size = o.artifact ? o.artifact.bytes : backup.metadata.server ? undefined : backup.execution.size_bytes;
  if (!compression) throw new AppError('validation_error', 'This backup does not say how it was compressed');
  const total = chosen[0]!.chunks.reduce((n, c) => n + Number(c.size_bytes), 0);
  const { encryption } = backup.metadata;
  // Refused before any byte is read when no key at hand is one it was encrypted to.
  const keys = encryption ? await identitiesFor(ctx, encryption, o.keys ?? []) : null;

  // mkdtemp makes the folder 0700: another local user cannot read the backup or swap the file.
  const dir = await mkdtemp(path.join(o.tempDir, 'restore-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const failures: string[] = [];
  try {
    for (const copy of chosen) {
      o.signal.throwIfAborted();
      try {
        o.say('info', `Checking the SHA-256 of ${counted(copy.chunks.length, 'file')} on ${copy.storage.name}${keys ? ' and that the key opens them' : ''}`);
        const source = await proveCopy(openSavedStorage(ctx, copy.storage), copy.chunks, {
          expectedSha256: checksum ? checksum.replace(/^sha256:/, '') : null,
          compression,
          identities: keys?.map((k) => k.identity),
          expectedBytes: size === undefined || size === null ? null : Number(size),
          dir,
          signal: o.signal,
          onBytes: (done) => o.progress({ stage: 'download', bytes_raw: done, bytes_stored: done, total_raw_estimate: total }),
        });
        o.say('info', `Checksums match; the backup is ${keys ? 'decrypted and ' : ''}decompressed (${compression}) as it is restored`);
        return { backup, source, copy: { storage_location_id: copy.storage.id, storage_name: copy.storage.name }, cleanup };
      } catch (e) {
        if (o.signal.aborted) throw e;
        // The catalog named a key the file does not open with: no other copy of the same bytes will.
        if (e instanceof AgeError && e.reason === 'key') throw keyRequired(encryption!, o.keys ?? [], await appIdentities(ctx));
        const reason = (e as Error).message;
        failures.push(`${copy.storage.name}: ${reason}`);
        o.say('warn', `The copy on ${copy.storage.name} cannot be used: ${reason}`);
      }
    }
    throw new AppError('damaged', `No copy of this backup passed verification (${failures.join('; ')}). Nothing was restored.`);
  } catch (e) {
    await cleanup();
    throw e;
  }
}
