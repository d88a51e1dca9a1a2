import path from 'node:path';
import type { DataSource } from 'typeorm';
import { openArtifact, type Artifact } from './catalog/artifact.js';
import { openBackupFile } from './catalog/backup-file.js';
import { openBackupTable } from './executions/table-csv.js';
import { givenIdentities } from './catalog/keys.js';
import { openDataSource } from './db/data-source.js';
import { rememberToolsIn } from './engines/tools.js';
import { resolveDataDir } from './db/data-dir.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded-postgres.js';
import { createDispatch, type Dispatch } from './services/dispatch.js';
import { Executions } from './executions/index.js';
import { HealthMonitor } from './health/monitor.js';
import type { QueueTiming } from './executions/queue.js';
import { appVersion } from './kernel/app-version.js';
import { systemClock, type Clock } from './kernel/clock.js';
import { EventBus } from './kernel/events.js';
import { lockDataDir } from './kernel/instance-lock.js';
import { logger, setLogDirectory } from './kernel/log.js';
import { SecretBox } from './kernel/secrets.js';
import { readSettings, seedSettings } from './kernel/settings.js';
import { PrivateTemp } from './kernel/temp.js';
import { DELIVERY_DEFAULTS, type DeliveryOptions } from './notify/delivery.js';
import { desktopSink, type ShowDesktop } from './notify/desktop.js';
import { emailSink } from './notify/email.js';
import { Notifier } from './notify/notifier.js';
import { webhookSink } from './notify/webhook.js';
import { CleanupWorker } from './scheduler/cleanup-worker.js';
import { planRetention } from './scheduler/retention.js';
import type { AppInfo, ServiceContext } from './services/context.js';
import { Scheduler } from './scheduler/scheduler.js';
import { createHandlers } from './services/index.js';
import type { TrayModel } from './tray/model.js';
import { trayNow } from './tray/inputs.js';

export interface CoreOptions {
  mode: 'desktop' | 'headless';
  /** Defaults to DG_DATA_DIR, else the OS's usual place. */
  dataDir?: string;
  /** An external PostgreSQL for metadata; defaults to DATABASE_URL, else the embedded one. */
  databaseUrl?: string;
  /** Check every answer against the contract's output schema (tests). */
  checkOutput?: boolean;
  /** Tests drive time; the app reads the system clock. */
  clock?: Clock;
  /** How runs prove their process is alive, and how often work queued by another process is looked for (tests shorten or stretch them). */
  lease?: Partial<QueueTiming>;
  /** How webhook and e-mail deliveries time out and retry (tests shorten the waits). */
  delivery?: Partial<DeliveryOptions>;
}

/** How long closing the app waits for notifications still being delivered. */
const DELIVERY_GRACE_MS = 3_000;

export interface Core {
  dispatch: Dispatch;
  /**
   * A completed backup as one stream (the download route): a stream is no JSON answer, so it is not a channel.
   * As stored, or decrypted (`decrypt`) with the app's key or the `identity` pasted for this download only.
   */
  openArtifact(executionId: string, options?: { decrypt?: boolean; identity?: string }): Promise<Artifact>;
  /** One file of a folder backup, decrypted, read from the frames that hold it. */
  openBackupFile(backupId: string, filePath: string): Promise<Artifact>;
  /** One table of a database backup as CSV (`GET /api/backups/:id/table.csv?name=`). */
  openBackupTable(backupId: string, table: string): Promise<Artifact>;
  events: EventBus;
  notifier: Notifier;
  info: AppInfo;
  db: DataSource;
  /** Runs the jobs at their slots; tests wait on `settled()` after moving their clock. */
  scheduler: Pick<Scheduler, 'settled' | 'look'>;
  /** Checks datasources and storages and looks for overdue jobs; tests run a cycle and wait on `settled()`. */
  health: Pick<HealthMonitor, 'runOnce' | 'settled'>;
  /** Where this instance can be opened (the headless server's address), for the message a second start prints. */
  announce(url: string): void;
  /** The desktop shell shows notifications through `show` (Electron's Notification); headless has none. */
  showDesktopNotifications(show: ShowDesktop): void;
  /** The desktop tray's state, tooltip and menu now (the shell asks again on every event). */
  tray(shell: { startAtLogin: boolean }): Promise<TrayModel>;
  close(): Promise<void>;
}

/**
 * The composition root: builds every part the app is, without any transport (metadata store and
 * migrations, secrets, events, notifications, the execution queue, the services), starts the workers,
 * and stops them in reverse order.
 */
export async function startCore(options: CoreOptions): Promise<Core> {
  const dataDir = resolveDataDir(options.dataDir);
  // First, before a log line or a file: a second start on a folder in use must touch nothing of the first.
  const lock = lockDataDir(dataDir);
  setLogDirectory(dataDir);
  rememberToolsIn(path.join(dataDir, 'tools.json'));
  // An empty DATABASE_URL (a service file's `DATABASE_URL=`) means none.
  const externalUrl = (options.databaseUrl ?? process.env.DATABASE_URL) || undefined;
  let embedded: EmbeddedDatabase | undefined;
  let db: DataSource;
  try {
    if (!externalUrl) embedded = await startEmbeddedPostgres(dataDir);
    db = await openDataSource(externalUrl ?? embedded!.url);
  } catch (e) {
    await embedded?.stop();
    lock.release();
    throw e;
  }
  const clock = options.clock ?? systemClock;
  const info: AppInfo = {
    version: appVersion(),
    mode: options.mode,
    dataDir,
    metadataDatabase: externalUrl ? 'external' : 'embedded',
    startedAt: clock.now(),
  };
  await seedSettings(db);
  // Before any worker starts: what a crashed run left (credential files, copies) goes first.
  const temp = await PrivateTemp.open(dataDir, (await readSettings(db))['system.temp_directory']);
  const base = { db, secrets: SecretBox.open(dataDir), events: new EventBus(), clock, temp };
  const notifier = new Notifier(base);
  const delivery = { ...DELIVERY_DEFAULTS, ...options.delivery };
  notifier.addSink('webhook', webhookSink(clock, delivery), { label: 'webhook', admits: { floor: 'notifications.webhook_min_severity' } });
  notifier.addSink('email', emailSink(base.secrets, clock, delivery), { label: 'e-mail', admits: { floor: 'notifications.email_min_severity' } });
  const executions = new Executions(base, notifier, { planRetention, lease: options.lease });
  const cleanupWorker = new CleanupWorker(base, executions);
  const ctx: ServiceContext = { ...base, info, executions, notifier };
  const dispatch = createDispatch(createHandlers(ctx), { checkOutput: options.checkOutput });
  await executions.start();
  const scheduler = new Scheduler(base, executions);
  await scheduler.start();
  cleanupWorker.start();
  const health = new HealthMonitor({ ...base, notifier });
  await health.start();
  logger.info(`core ready (${info.mode}, data in ${dataDir}, ${info.metadataDatabase} metadata database)`);
  let closed = false;
  return {
    dispatch,
    openArtifact: async (executionId, o = {}) => openArtifact(ctx, executionId, { decrypt: o.decrypt, keys: await givenIdentities(o.identity) }),
    openBackupFile: (backupId, filePath) => openBackupFile(ctx, backupId, filePath),
    openBackupTable: (backupId, table) => openBackupTable(ctx, backupId, table),
    events: ctx.events,
    notifier,
    info,
    db,
    scheduler,
    health,
    announce: (url) => lock.announce(url),
    showDesktopNotifications(show) {
      notifier.addSink('desktop', desktopSink(show), { label: 'desktop notification', admits: { route: 'desktop' } });
    },
    tray: (shell) => trayNow(base, shell),
    async close() {
      if (closed) return;
      closed = true;
      await health.stop();
      await scheduler.stop();
      await cleanupWorker.stop();
      await executions.stop();
      await notifier.close(DELIVERY_GRACE_MS);
      await temp.close();
      await db.destroy();
      await embedded?.stop();
      lock.release();
    },
  };
}
