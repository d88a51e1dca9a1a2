import { existsSync } from 'node:fs';
import { AppError } from '../../../shared/errors.js';
import type { ConnectionConfig } from '../../../shared/schemas/datasource.js';
import type { RestoreTarget, TargetRequest } from './types.js';

const notUsed = (field: keyof TargetRequest, message: string) =>
  new AppError('validation_error', message, [{ path: field, message: 'Not used for this type' }]);

/** A server database: the configured one (replaced), or a new name on the same server (created). */
export function databaseTarget(config: ConnectionConfig, datasourceName: string, request: TargetRequest): RestoreTarget {
  if (request.target_path) throw notUsed('target_path', 'A database restore takes a database name, not a path');
  const configured = (config as { database: string }).database;
  const database = request.target_database ?? configured;
  const createDatabase = database !== configured;
  return {
    config: { ...config, database } as ConnectionConfig,
    description: `database ${database} on ${datasourceName}`,
    createDatabase,
    replacesDatasource: !createDatabase,
  };
}

/**
 * A file or folder: the configured one (replaced), or another absolute path. A configured one that is
 * gone (the disaster being recovered from) replaces nothing, so no safety backup of it is taken.
 */
export function pathTarget(config: ConnectionConfig, key: 'file_path' | 'source_path', request: TargetRequest): RestoreTarget {
  if (request.target_database) throw notUsed('target_database', 'Only PostgreSQL and MySQL/MariaDB restores take a database name');
  const configured = (config as Record<string, unknown>)[key] as string;
  const where = request.target_path ?? configured;
  return {
    config: { ...config, [key]: where } as ConnectionConfig,
    description: where,
    createDatabase: false,
    replacesDatasource: where === configured && existsSync(where),
  };
}
