import type { DatasourceType } from '../../../shared/schemas/enums.js';
import { mysqlDrill } from './mysql/index.js';
import { postgresDrill } from './postgres/drill.js';
import { sqliteDrill } from './sqlite/drill.js';
import type { DrillChecks } from './types.js';

/** What a drill asks each database engine about its scratch target; null for folders (checked by their files) and engines without drills. */
export function drillChecksFor(type: DatasourceType): DrillChecks | null {
  switch (type) {
    case 'postgres':
      return postgresDrill;
    case 'mysql':
    case 'mariadb':
      return mysqlDrill;
    case 'sqlite':
      return sqliteDrill;
    default:
      return null;
  }
}
