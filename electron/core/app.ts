import { readFileSync } from 'node:fs';
import type { DataSource } from 'typeorm';
import { openDataSource } from './db/data-source.js';
import { resolveDataDir } from './db/data-dir.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded-postgres.js';
import { createDispatch, type Dispatch } from './dispatch.js';
import { EventBus } from './events.js';
import { logger, setLogDirectory } from './log.js';
import { SecretBox } from './secrets.js';
import type { AppInfo } from './services/context.js';
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
  events: EventBus;
  info: AppInfo;
  db: DataSource;
  close(): Promise<void>;
}

export function appVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return process.env.npm_package_version ?? '0.0.0';
  }
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
  const ctx = { db, secrets: SecretBox.open(dataDir), events, info };
  await seedSettings(ctx);
  const dispatch = createDispatch(createHandlers(ctx), { checkOutput: options.checkOutput });
  logger.info(`core ready (${info.mode}, data in ${dataDir}, ${info.metadataDatabase} metadata database)`);
  let closed = false;
  return {
    dispatch,
    events,
    info,
    db,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
      await embedded?.stop();
    },
  };
}
