import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../../shared/errors.js';
import { counted, bytes } from '../../../shared/format.js';
import type { TocFileEntry } from '../../../shared/schemas/toc.js';
import { appIdentities, identitiesFor, keyRequired } from '../catalog/keys.js';
import { locateBackup } from '../catalog/locate.js';
import { openSavedStorage } from '../catalog/storages.js';
import { tarIndex } from '../engines/files/toc.js';
import { fileSource } from '../engines/source.js';
import { AgeError } from '../kernel/age.js';
import type { CoreContext } from '../kernel/context.js';
import { loadToc, TocUnusable } from '../restore/contents.js';
import { archiveReader } from '../restore/ranges.js';
import { chosenEntries, fileRange, sameEntries, writeChosenTar } from '../restore/take-out.js';
import { fetchVerified, type FetchedBackup, type FetchOptions } from './fetch.js';

/** The entries of a tar file, read from its headers. */
async function entriesOf(file: string): Promise<TocFileEntry[]> {
  const index = tarIndex();
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) index.observe(chunk as Buffer);
  return (await index.finish()).files ?? [];
}

/**
 * Brings only the chosen files and folders of a folder backup to a private temp folder, as a tar of their own entries:
 * read from the frames that hold them (range reads), each frame checked against its SHA-256 in the table of contents.
 * A backup without a usable table of contents is downloaded whole and verified instead, and the run says so.
 */
export async function fetchChosen(ctx: Pick<CoreContext, 'db' | 'secrets'>, backupId: string, paths: string[], o: FetchOptions): Promise<FetchedBackup> {
  const backup = await locateBackup(ctx, backupId);
  const { encryption, compression, toc: ref } = backup.metadata;
  if (!compression) throw new AppError('validation_error', 'This backup does not say how it was compressed');
  const keys = encryption ? await identitiesFor(ctx, encryption, o.keys ?? []) : null;
  const identities = keys?.map((k) => k.identity) ?? null;
  const chosen = backup.copies.filter((c) => !o.storageId || c.storage.id === o.storageId);
  if (chosen.length === 0) throw new AppError('not_found', 'This backup has no completed copy on the chosen storage');
  const dir = await mkdtemp(path.join(o.tempDir, 'take-out-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const rawPath = path.join(dir, 'chosen.tar');
  const reasons: string[] = [];
  try {
    if (!ref) reasons.push('this backup was made before tables of contents');
    for (const copy of ref ? chosen : []) {
      const storage = openSavedStorage(ctx, copy.storage);
      try {
        const folder = copy.chunks[0]!.file_path.split('/').slice(0, -1).join('/');
        const parts = copy.chunks.map((c) => ({ key: c.file_path, size: Number(c.size_bytes) }));
        const stored = parts.reduce((n, p) => n + p.size, 0);
        const toc = await loadToc(storage, folder, ref!, { identities, storedPayloadBytes: identities ? null : stored, signal: o.signal });
        const entries = chosenEntries(toc.files ?? [], paths);
        const reader = archiveReader({ storage, parts, compression, toc, identities, signal: o.signal });
        o.say('info', `Reading ${counted(entries.length, 'entry', 'entries')} from ${copy.storage.name}: only the frames that hold them`);
        await writeChosenTar(reader.raw, entries, rawPath);
        if (!sameEntries(await entriesOf(rawPath), entries)) throw new TocUnusable('its offsets do not point at the entries it names');
        o.say('info', `${bytes(reader.bytesRead)} read from ${copy.storage.name} (of ${bytes(stored)}); every frame matches its SHA-256`);
        return { backup, source: fileSource(rawPath), copy: { storage_location_id: copy.storage.id, storage_name: copy.storage.name }, cleanup };
      } catch (e) {
        if (o.signal.aborted) throw e;
        if (e instanceof AgeError && e.reason === 'key') throw keyRequired(encryption!, o.keys ?? [], await appIdentities(ctx));
        if (e instanceof AppError && e.code === 'not_found') throw e;
        await rm(rawPath, { force: true });
        reasons.push(`${copy.storage.name}: ${(e as Error).message}`);
      } finally {
        await storage.close().catch(() => undefined);
      }
    }
    o.say('warn', `The table of contents was not used (${reasons.join('; ')}): the whole archive is read instead`);
    const whole = await fetchVerified(ctx, backupId, { ...o, tempDir: dir });
    const wholePath = await whole.source.file();
    const entries = chosenEntries(await entriesOf(wholePath), paths);
    await writeChosenTar((start, end) => fileRange(wholePath, start, end), entries, rawPath);
    await whole.cleanup();
    return { backup, source: fileSource(rawPath), copy: whole.copy, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
