import { AppError } from '../../../shared/errors.js';
import type { DatasourceType } from '../../../shared/schemas/enums.js';
import { filesEngine } from './files.js';
import { mysqlEngine } from './mysql.js';
import { postgresEngine } from './postgres.js';
import { sqliteEngine } from './sqlite.js';
import type { Engine } from './types.js';

export type { Dump, DumpResult, Engine, EngineOptions, RestoreOptions, RestoreResult, SourceInfo, Summary } from './types.js';
export { testConnection } from './connection.js';

const ENGINES: Partial<Record<DatasourceType, Engine>> = {
  postgres: postgresEngine,
  mysql: mysqlEngine,
  mariadb: mysqlEngine,
  sqlite: sqliteEngine,
  files: filesEngine,
};

/** The engine that backs up a datasource type; MongoDB and SQL Server dumps come in a later release. */
export function engineFor(type: DatasourceType): Engine {
  const engine = ENGINES[type];
  if (!engine) {
    const name = type === 'mongodb' ? 'MongoDB' : 'SQL Server';
    throw new AppError('unsupported', `${name} backups are not supported yet: this version can test the connection and watch its health, but cannot dump it.`);
  }
  return engine;
}
