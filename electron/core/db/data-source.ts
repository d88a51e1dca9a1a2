import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { InitialSchema1700000000001 } from '../../../migrations/1700000000001-initial-schema.js';
import { BackupCopies1700000000002 } from '../../../migrations/1700000000002-backup-copies.js';
import { KeepBackupHistory1700000000003 } from '../../../migrations/1700000000003-keep-backup-history.js';
import { ExecutionOperation1700000000004 } from '../../../migrations/1700000000004-execution-operation.js';
import { Schedules1700000000005 } from '../../../migrations/1700000000005-schedules.js';
import { RetentionRecovery1700000000006 } from '../../../migrations/1700000000006-retention-recovery.js';
import { AlertConditions1700000000007 } from '../../../migrations/1700000000007-alert-conditions.js';
import { DeliveryFailed1700000000008 } from '../../../migrations/1700000000008-delivery-failed.js';
import { CatalogPages1700000000009 } from '../../../migrations/1700000000009-catalog-pages.js';
import { RunOwnersAndHistory1700000000010 } from '../../../migrations/1700000000010-run-owners-and-history.js';
import { EncryptionKeys1700000000011 } from '../../../migrations/1700000000011-encryption-keys.js';
import { PinsAndQuietNotifications1700000000012 } from '../../../migrations/1700000000012-pins-and-quiet-notifications.js';
import { Drills1700000000014 } from '../../../migrations/1700000000014-drills.js';
import { WholeServers1700000000015 } from '../../../migrations/1700000000015-whole-servers.js';
import { scoped } from '../kernel/log.js';
import { ENTITIES } from './entities.js';

const log = scoped('metadata-db');

/** Listed explicitly (no globs) so a bundled app finds them. */
export const MIGRATIONS = [
  InitialSchema1700000000001,
  BackupCopies1700000000002,
  KeepBackupHistory1700000000003,
  ExecutionOperation1700000000004,
  Schedules1700000000005,
  RetentionRecovery1700000000006,
  AlertConditions1700000000007,
  DeliveryFailed1700000000008,
  CatalogPages1700000000009,
  RunOwnersAndHistory1700000000010,
  EncryptionKeys1700000000011,
  PinsAndQuietNotifications1700000000012,
  Drills1700000000014,
  WholeServers1700000000015,
];

/** Connects and brings the schema up to date; migrations are the only way it changes. */
export async function openDataSource(url: string): Promise<DataSource> {
  const ds = new DataSource({
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    synchronize: false,
    migrationsRun: false,
    logging: false,
    applicationName: 'dataguardian',
  });
  await ds.initialize();
  const ran = await ds.runMigrations({ transaction: 'each' });
  for (const m of ran) log.info(`applied migration ${m.name}`);
  return ds;
}
