import { AppError } from '../../../shared/errors.js';
import type { ConnectionConfig } from '../../../shared/schemas/datasource.js';
import type { DatasourceType } from '../../../shared/schemas/enums.js';
import { Datasources, type DatasourceRow, type ExecutionRow } from '../db/entities.js';
import type { SecretBox } from '../secrets.js';
import type { ServiceContext } from '../services/context.js';

/** MySQL and MariaDB read each other's dumps; every other type restores only into its own kind. */
export const sameFamily = (a: string, b: string): boolean => a === b || (['mysql', 'mariadb'].includes(a) && ['mysql', 'mariadb'].includes(b));

/** What kind of datasource a backup came from: recorded with it, else (an older backup) its datasource's type. */
export async function backupTypeOf(ctx: Pick<ServiceContext, 'db'>, backup: ExecutionRow): Promise<DatasourceType> {
  const recorded = backup.metadata?.datasource_type;
  if (typeof recorded === 'string') return recorded as DatasourceType;
  const ds = backup.datasource_id ? await ctx.db.getRepository(Datasources).findOneBy({ id: backup.datasource_id }) : null;
  if (!ds) throw new AppError('not_found', 'The type of this backup is unknown (its datasource was deleted)');
  return ds.type;
}

export interface RestoreTarget {
  config: ConnectionConfig;
  /** What a user reads: "database shop_copy on Shop server", "/srv/app.db". */
  description: string;
  /** A new database the restore creates: nothing existing is overwritten. */
  createDatabase: boolean;
  /** The datasource's own data is replaced (a safety backup makes sense). */
  replacesDatasource: boolean;
}

/** Where a restore writes: the datasource as configured, or a new database name / another path on it. */
export function resolveTarget(
  secrets: SecretBox,
  datasource: DatasourceRow,
  request: { target_database: string | null; target_path: string | null },
): RestoreTarget {
  const config = secrets.openConfig(datasource.connection_config) as Record<string, unknown>;
  const type = datasource.type as DatasourceType;
  if (type === 'postgres' || type === 'mysql' || type === 'mariadb') {
    if (request.target_path) throw new AppError('validation_error', 'A database restore takes a database name, not a path', [{ path: 'target_path', message: 'Not used for this type' }]);
    const database = request.target_database ?? (config.database as string);
    const createDatabase = database !== config.database;
    return {
      config: { ...config, database } as ConnectionConfig,
      description: `database ${database} on ${datasource.name}`,
      createDatabase,
      replacesDatasource: !createDatabase,
    };
  }
  if (request.target_database) throw new AppError('validation_error', 'Only PostgreSQL and MySQL/MariaDB restores take a database name', [{ path: 'target_database', message: 'Not used for this type' }]);
  const key = type === 'sqlite' ? 'file_path' : type === 'files' ? 'source_path' : null;
  if (!key) throw new AppError('unsupported', `Restoring ${type} backups is not supported yet`);
  const where = request.target_path ?? (config[key] as string);
  return {
    config: { ...config, [key]: where } as ConnectionConfig,
    description: where,
    createDatabase: false,
    replacesDatasource: where === config[key],
  };
}
