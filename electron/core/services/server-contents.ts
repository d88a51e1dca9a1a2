import { AppError } from '../../../shared/errors.js';
import type { LocatedBackup } from '../catalog/locate.js';

/** One database's artifact in a whole server's backup: what its table of contents is read from. */
export interface ServerArtifact {
  database: string;
  file: string;
  checksum: string;
}

const invalid = (message: string) => new AppError('validation_error', message, [{ path: 'database', message }]);

/**
 * Which artifact `database` names in a whole server's backup (null for any other backup asked for none). A server's
 * backup is browsed one database at a time: the name must be one it backed up.
 */
export function serverArtifactOf(backup: LocatedBackup, database: string | undefined): ServerArtifact | null {
  const server = backup.metadata.server;
  if (!server) {
    if (database !== undefined) throw invalid('This backup is of one database, not of a whole server');
    return null;
  }
  const names = server.databases.map((d) => d.name).join(', ');
  if (database === undefined) throw invalid(`This backup holds several databases: choose one (database) of ${names}`);
  const entry = server.databases.find((d) => d.name === database);
  if (!entry) throw invalid(`This backup has no database named ${database} (it holds ${names})`);
  if (entry.status !== 'completed' || !entry.checksum) throw invalid(`${database} failed in this backup (${entry.error}): choose another backup of it`);
  return { database, file: entry.artifact, checksum: entry.checksum };
}
