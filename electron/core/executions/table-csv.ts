import path from 'node:path';
import { Readable } from 'node:stream';
import { AppError } from '../../../shared/errors.js';
import type { Artifact } from '../catalog/artifact.js';
import { locateBackup } from '../catalog/locate.js';
import { backupEngineFor } from '../engines/index.js';
import type { CoreContext } from '../kernel/context.js';
import { readSettings, toolDirs } from '../kernel/settings.js';
import { csvOf } from '../restore/csv.js';
import { fetchVerified } from './fetch.js';

/**
 * One table of a database backup as CSV, streamed: the backup is brought to a private temp folder and every checksum
 * checked (decrypted with the app's key), then the table's rows are read from the artifact itself (PostgreSQL: its
 * COPY data; MySQL/MariaDB: its INSERTs; SQLite: the file), written as RFC 4180 CSV. Nothing is restored anywhere.
 */
export async function openBackupTable(ctx: Pick<CoreContext, 'db' | 'secrets' | 'temp'>, backupId: string, table: string): Promise<Artifact> {
  const backup = await locateBackup(ctx, backupId);
  const type = backup.metadata.datasource_type;
  if (backup.metadata.server)
    throw new AppError('unsupported', "A whole server's backup exports no table as CSV yet: restore its database, then export from there");
  const engine = type ? backupEngineFor(type as Parameters<typeof backupEngineFor>[0]) : null;
  if (!engine?.tableRows) throw new AppError('unsupported', 'Only a database backup exports a table as CSV');
  const settings = await readSettings(ctx.db);
  const tempDir = await ctx.temp.dir(settings['system.temp_directory']);
  const stop = new AbortController();
  const fetched = await fetchVerified(ctx, backupId, { tempDir, signal: stop.signal, say: () => undefined, progress: () => undefined });
  try {
    // Whatever the engine unpacks goes beside the artifact, and is removed with it.
    const rawPath = await fetched.source.file();
    const rows = await engine.tableRows(rawPath, table, { tempDir: path.dirname(rawPath), toolDirs: toolDirs(settings), signal: stop.signal });
    const stream = Readable.from(csvOf(rows), { objectMode: false });
    stream.once('close', () => {
      stop.abort();
      void fetched.cleanup();
    });
    return { fileName: `${table}.csv`, size: null, stream };
  } catch (e) {
    stop.abort();
    await fetched.cleanup();
    throw e;
  }
}
