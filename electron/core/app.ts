import type { DataSource } from 'typeorm';
import { appVersion } from './app-version.js';
import { BackupQueue } from './backup/queue.js';
import { createBackupRunner } from './backup/run.js';
import { createRestoreRunner } from './restore/run.js';
import { createVerifyRunner } from './restore/verify.js';
import { openDataSource } from './db/data-source.js';
import { resolveDataDir } from './db/data-dir.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded-postgres.js';
import { createDispatch, type Dispatch } from './dispatch.js';
import { EventBus } from './events.js';
import { logger, setLogDirectory } from './log.js';
import { SecretBox } from './secrets.js';
import type { AppInfo, ServiceContext } from './services/context.js';
import { createHandlers } from './services/index.js';
import { seedSettings } from './services/settings.js';

export interface CoreOptions {
  mode: 'desktop' | 'headless';
  /** Defaults to DG_DATA_DIR, else the OS's usual place. */
  dataDir?: string;
  /** An external PostgreSQL for metadata; defaults to DATABASE_URL, else the embedded one. */
  databaseUrl?: string;
  /** Check every answer against the contract's output schema (tests). */
  checkOutput?: boolean;
}

export interface Core {
  dispatch: Dispatch;
  /** Services' own context, for what is not a JSON call (the download stream). */
  context: ServiceContext;
  events: EventBus;
  info: AppInfo;
  db: DataSource;
  close(): Promise<void>;
}

/** Starts everything the app is, without any transport: metadata store, migrations, services. */
export async function startCore(options: CoreOptions): Promise<Core> {
  const dataDir = resolveDataDir(options.dataDir);
  setLogDirectory(dataDir);
  const externalUrl = options.databaseUrl ?? process.env.DATABASE_URL;
  let embedded: EmbeddedDatabase | undefined;
  if (!externalUrl) embedded = await startEmbeddedPostgres(dataDir);
  let db: DataSource;
  try {
    db = await openDataSource(externalUrl ?? embedded!.url);
  } catch (e) {
    await embedded?.stop();
    throw e;
  }
  const events = new EventBus();
  const info: AppInfo = {
    version: appVersion(),
    mode: options.mode,
    dataDir,
    metadataDatabase: externalUrl ? 'external' : 'embedded',
    startedAt: new Date(),
  };
  const ctx = { db, secrets: SecretBox.open(dataDir), events, info } as ServiceContext;
  const runBackup = createBackupRunner(ctx);
  const runners = { backup: runBackup, restore: createRestoreRunner(ctx, runBackup), verify: createVerifyRunner(ctx) };
  ctx.backups = new BackupQueue(ctx, (row, signal) => runners[(row.metadata?.operation as keyof typeof runners) ?? 'backup'](row, signal));
  await seedSettings(ctx);
  const dispatch = createDispatch(createHandlers(ctx), { checkOutput: options.checkOutput });
  await ctx.backups.start();
  logger.info(`core ready (${info.mode}, data in ${dataDir}, ${info.metadataDatabase} metadata database)`);
  let closed = false;
  return {
    dispatch,
    context: ctx,
    events,
    info,
    db,
    async close() {
      if (closed) return;
      closed = true;
      await ctx.backups.stop();
      await db.destroy();
      await embedded?.stop();
    },
  };
}
