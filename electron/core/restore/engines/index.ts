import { AppError } from '../../../../shared/errors.js';
import type { DatasourceType } from '../../../../shared/schemas/enums.js';
import { filesRestorer } from './files.js';
import { mysqlRestorer } from './mysql.js';
import { postgresRestorer } from './postgres.js';
import { sqliteRestorer } from './sqlite.js';
import type { Restorer } from './types.js';

export type { Restorer, RestoreOptions, RestoreResult, Summary } from './types.js';

const RESTORERS: Partial<Record<DatasourceType, Restorer>> = {
  postgres: postgresRestorer,
  mysql: mysqlRestorer,
  mariadb: mysqlRestorer,
  sqlite: sqliteRestorer,
  files: filesRestorer,
};

export function restorerFor(type: DatasourceType): Restorer {
  const restorer = RESTORERS[type];
  if (!restorer) throw new AppError('unsupported', `Restoring ${type === 'mongodb' ? 'MongoDB' : 'SQL Server'} backups is not supported yet`);
  return restorer;
}
