import { AppError } from '../../../shared/errors.js';
import { CONNECTION_CONFIG, type ConnectionConfig } from '../../../shared/schemas/datasource.js';
import type { DatasourceRow } from '../db/entities.js';
import type { CoreContext } from '../kernel/context.js';

/** A saved datasource's connection, decrypted and checked against its type's schema. */
export function datasourceConfig(ctx: Pick<CoreContext, 'secrets'>, row: DatasourceRow): ConnectionConfig {
  const parsed = CONNECTION_CONFIG[row.type].safeParse(ctx.secrets.openConfig(row.connection_config));
  if (!parsed.success)
    throw new AppError(
      'validation_error',
      `The saved connection of ${row.name} is not valid any more (${parsed.error.issues[0]?.message}): edit the datasource`,
    );
  return parsed.data;
}
