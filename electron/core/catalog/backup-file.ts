import path from 'node:path';
import { Readable } from 'node:stream';
import { AppError } from '../../../shared/errors.js';
import { AgeError } from '../kernel/age.js';
import type { CoreContext } from '../kernel/context.js';
import { loadToc, TocUnusable } from '../restore/contents.js';
import { archiveReader } from '../restore/ranges.js';
import type { Artifact } from './artifact.js';
import { identitiesFor } from './keys.js';
import { locateBackup } from './locate.js';
import { openSavedStorage } from './storages.js';

/**
 * One file of a folder backup, streamed and decrypted: read from the frames that hold it (range reads), each checked
 * against its SHA-256 in the table of contents, from the first copy whose table of contents can be used.
 */
export async function openBackupFile(ctx: Pick<CoreContext, 'db' | 'secrets'>, backupId: string, filePath: string): Promise<Artifact> {
  const { metadata, copies } = await locateBackup(ctx, backupId);
  const { toc: ref, compression, encryption } = metadata;
  if (!ref || !compression) throw new AppError('unsupported', 'This backup has no table of contents: restore the file into a folder instead');
  const identities = encryption ? (await identitiesFor(ctx, encryption, [])).map((k) => k.identity) : null;
  const failures: string[] = [];
  for (const copy of copies) {
    const storage = openSavedStorage(ctx, copy.storage);
    try {
      const folder = copy.chunks[0]!.file_path.split('/').slice(0, -1).join('/');
      const parts = copy.chunks.map((c) => ({ key: c.file_path, size: Number(c.size_bytes) }));
      const toc = await loadToc(storage, folder, ref, { identities, storedPayloadBytes: identities ? null : parts.reduce((n, p) => n + p.size, 0) });
      const entry = toc.files?.find((f) => f.path === filePath);
      if (!entry || entry.type !== 'file') throw new AppError('not_found', `“${filePath.slice(0, 300)}” is not a file of this backup`);
      const reader = archiveReader({ storage, parts, compression, toc, identities });
      const stream = Readable.from(reader.raw(entry.data, entry.data + entry.size), { objectMode: false });
      stream.once('close', () => void storage.close().catch(() => undefined));
      return { fileName: path.posix.basename(entry.path), size: entry.size, stream };
    } catch (e) {
      await storage.close().catch(() => undefined);
      if (e instanceof AppError || (e instanceof AgeError && e.reason === 'key')) throw e;
      if (!(e instanceof TocUnusable)) throw e;
      failures.push(`${copy.storage.name}: the table of contents ${e.message}`);
    }
  }
  throw new AppError('damaged', `This file cannot be read on its own (${failures.join('; ')}): restore it into a folder instead`);
}
