import { familyOf, pickReason } from '../../../shared/databases.js';
import { AppError } from '../../../shared/errors.js';
import type { ConnectionConfig, ServerConnectionConfig, ServerDatabases } from '../../../shared/schemas/datasource.js';
import type { DatasourceType } from '../../../shared/schemas/enums.js';
import { serverEngineFor } from '../engines/index.js';

/** Whether a datasource is a whole server ("Every database on this server") rather than one database. */
export const isWholeServer = (type: DatasourceType, config: ConnectionConfig): boolean =>
  familyOf(type) !== null && (config as ServerConnectionConfig).all_databases === true;

/** The databases the server has now, each with whether the datasource's patterns pick it: what the form shows and a run backs up. */
export async function serverDatabasesOf(type: DatasourceType, config: ConnectionConfig, signal = AbortSignal.timeout(30_000)): Promise<ServerDatabases> {
  const family = familyOf(type);
  if (!family) throw new AppError('unsupported', 'Only PostgreSQL and MySQL/MariaDB datasources back up every database of a server');
  const c = config as ServerConnectionConfig;
  const patterns = { include: c.include ?? [], exclude: c.exclude ?? [] };
  const listed = await serverEngineFor(type).listDatabases(config, signal);
  const databases = listed.map((d) => ({ ...d, reason: pickReason(d.name, patterns, family) }));
  return { databases, picked: databases.filter((d) => d.reason === 'picked').length };
}
