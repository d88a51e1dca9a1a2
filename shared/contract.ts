import { z } from 'zod';
import { idInput } from './schemas/common.js';
import {
  connectionTestResult,
  datasource,
  datasourceCreate,
  datasourceTestInput,
  datasourceUpdate,
  healthCheck,
  serverDatabases,
} from './schemas/datasource.js';
import { job, jobCreate, jobUpdate, retentionPreview, retentionPreviewInput, schedulePreview, schedulePreviewInput } from './schemas/job.js';
import {
  execution,
  executionDetails,
  executionProgress,
  executionsListInput,
  executionStatusEvent,
  exportInput,
  jobExecutionsInput,
  runStarted,
} from './schemas/execution.js';
import { notification, notificationsListInput, notificationTestInput, notificationTestResult, unreadCount } from './schemas/notification.js';
import { overview, overviewInput } from './schemas/overview.js';
import {
  backupDatasource,
  backupDatasourceDetails,
  backupsPageInput,
  importResult,
  markRestoredInput,
  pinInput,
  restoreInput,
  verifyInput,
} from './schemas/restore.js';
import { entriesInput, entriesPage } from './schemas/toc.js';
import { settings, settingsUpdate } from './schemas/settings.js';
import {
  checkRecoveryInput,
  checkRecoveryResult,
  configExportInput,
  configExportResult,
  configImportInput,
  configImportResult,
  encryptionState,
  recipientsInput,
  setupInput,
  setupResult,
  writeOnlyInput,
} from './schemas/encryption.js';
import { storageCreate, storageLocation, storageTestInput, storageTestResult, storageUpdate } from './schemas/storage.js';
import { isoDate, uuid } from './schemas/common.js';
import { datasourceStatus, storageStatus } from './schemas/enums.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Channel<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  input: I;
  output: O;
  /** The seed's REST route; every channel is also `POST /api/rpc/<group>.<name>`. */
  route?: { method: HttpMethod; path: string; status?: number };
  /**
   * Reachable over IPC only: the channel acts on this machine's files on the caller's word (e.g. writes
   * to any path), which only the desktop window's user may ask for. The HTTP transport answers 404.
   */
  desktopOnly?: true;
}

const channel = <I extends z.ZodType, O extends z.ZodType>(input: I, output: O, route?: Channel['route']): Channel<I, O> => ({
  input,
  output,
  ...(route ? { route } : {}),
});

/** Marks a channel the headless server must not offer (see `Channel.desktopOnly`). */
const desktopOnly = <I extends z.ZodType, O extends z.ZodType>(c: Channel<I, O>): Channel<I, O> => ({ ...c, desktopOnly: true });

const none = z.object({}).strict().default({});
const deleted = z.object({ id: uuid, deleted: z.literal(true) });

/**
 * Every call the UI (or a script) can make, declared once. Names come from the object path:
 * `datasources.create`. The services' handler map is typed from this object.
 */
export const contract = {
  system: {
    health: channel(
      none,
      z.object({ status: z.literal('ok'), version: z.string(), uptime_seconds: z.number(), metadata_database: z.enum(['embedded', 'external']) }),
      { method: 'GET', path: '/health' },
    ),
    info: channel(
      none,
      z.object({
        version: z.string(),
        mode: z.enum(['desktop', 'headless']),
        data_dir: z.string(),
        metadata_database: z.enum(['embedded', 'external']),
      }),
      { method: 'GET', path: '/api/system/info' },
    ),
  },
  datasources: {
    list: channel(none, z.array(datasource), { method: 'GET', path: '/api/datasources' }),
    get: channel(idInput, datasource, { method: 'GET', path: '/api/datasources/:id' }),
    create: channel(datasourceCreate, datasource, { method: 'POST', path: '/api/datasources', status: 201 }),
    update: channel(datasourceUpdate, datasource, { method: 'PUT', path: '/api/datasources/:id' }),
    delete: channel(idInput, deleted, { method: 'DELETE', path: '/api/datasources/:id' }),
    test: channel(datasourceTestInput, connectionTestResult, { method: 'POST', path: '/api/datasources/test' }),
    /** "Every database on this server": the databases the server has now, and which the patterns pick. */
    databases: channel(datasourceTestInput, serverDatabases, { method: 'POST', path: '/api/datasources/databases' }),
    healthCheck: channel(idInput, healthCheck, { method: 'POST', path: '/api/datasources/:id/health-check' }),
    healthChecks: channel(idInput.extend({ limit: z.coerce.number().int().min(1).max(500).default(50) }), z.array(healthCheck), {
      method: 'GET',
      path: '/api/datasources/:id/health-checks',
    }),
  },
  storages: {
    list: channel(none, z.array(storageLocation), { method: 'GET', path: '/api/storage-locations' }),
    get: channel(idInput, storageLocation, { method: 'GET', path: '/api/storage-locations/:id' }),
    create: channel(storageCreate, storageLocation, { method: 'POST', path: '/api/storage-locations', status: 201 }),
    update: channel(storageUpdate, storageLocation, { method: 'PUT', path: '/api/storage-locations/:id' }),
    delete: channel(idInput, deleted, { method: 'DELETE', path: '/api/storage-locations/:id' }),
    test: channel(storageTestInput, storageTestResult, { method: 'POST', path: '/api/storage-locations/test' }),
    /** Rebuilds catalog entries from the manifest.json files found on the storage (after a reinstall, on a second machine). */
    import: channel(idInput, importResult, { method: 'POST', path: '/api/storage-locations/:id/import' }),
  },
  jobs: {
    list: channel(none, z.array(job), { method: 'GET', path: '/api/backup-jobs' }),
    get: channel(idInput, job, { method: 'GET', path: '/api/backup-jobs/:id' }),
    create: channel(jobCreate, job, { method: 'POST', path: '/api/backup-jobs', status: 201 }),
    update: channel(jobUpdate, job, { method: 'PUT', path: '/api/backup-jobs/:id' }),
    delete: channel(idInput, deleted, { method: 'DELETE', path: '/api/backup-jobs/:id' }),
    previewSchedule: channel(schedulePreviewInput, schedulePreview, { method: 'POST', path: '/api/backup-jobs/preview-schedule' }),
    /** Which of the job's backups its retention (stored, or being edited) keeps and deletes, and why. */
    retentionPreview: channel(retentionPreviewInput, retentionPreview, { method: 'POST', path: '/api/backup-jobs/:id/retention-preview' }),
    /** Answers at once with the queued execution; progress arrives as events. */
    run: channel(idInput, runStarted, { method: 'POST', path: '/api/backup-jobs/:id/run', status: 202 }),
    /** Drill now: restores the backup the job's drill_pick chooses into a scratch target and checks it (an execution `drill`). */
    drill: channel(idInput, runStarted, { method: 'POST', path: '/api/backup-jobs/:id/drill', status: 202 }),
    executions: channel(jobExecutionsInput, z.array(execution), { method: 'GET', path: '/api/backup-jobs/:id/executions' }),
  },
  executions: {
    list: channel(executionsListInput, z.array(execution), { method: 'GET', path: '/api/executions' }),
    get: channel(idInput, executionDetails, { method: 'GET', path: '/api/executions/:id' }),
    /** A drill's printable report (HTML), for auditors: downloaded from the run. */
    drillReport: channel(idInput, z.object({ file_name: z.string(), html: z.string() }), { method: 'GET', path: '/api/executions/:id/drill-report' }),
    cancel: channel(idInput, execution, { method: 'POST', path: '/api/executions/:id/cancel' }),
    /** Desktop: write the joined artifact to a chosen file (headless: GET /api/executions/:id/download). */
    export: desktopOnly(channel(exportInput, z.object({ path: z.string(), size_bytes: z.number() }))),
    /** A restore done by hand (seed, rollback step 7): recorded as a `restore_completed` notification. */
    markRestored: channel(markRestoredInput, notification, { method: 'POST', path: '/api/executions/:id/mark-restored' }),
  },
  /** The Backups tab (seed, monitoring-layout-rollback.md §5): what can be restored, per datasource. */
  backups: {
    datasources: channel(none, z.array(backupDatasource), { method: 'GET', path: '/api/backups/datasources' }),
    /** Each copy's availability is checked live against its storage. */
    datasource: channel(backupsPageInput, backupDatasourceDetails, { method: 'GET', path: '/api/backups/datasources/:id' }),
    /** Answers at once with the queued restore; progress arrives as events. */
    restore: channel(restoreInput, runStarted, { method: 'POST', path: '/api/backups/:id/restore', status: 202 }),
    verify: channel(verifyInput, runStarted, { method: 'POST', path: '/api/backups/:id/verify', status: 202 }),
    /** One page of what a backup holds (a folder's tree or a search; a database's tables), from its table of contents. */
    entries: channel(entriesInput, entriesPage, { method: 'GET', path: '/api/backups/:id/entries' }),
    /** Retention never deletes a pinned backup; a pinned backup is not deleted by hand either until unpinned. */
    pin: channel(pinInput, execution, { method: 'POST', path: '/api/backups/:id/pin' }),
    unpin: channel(idInput, execution, { method: 'DELETE', path: '/api/backups/:id/pin' }),
    /** Deletes a backup's files on every storage (a cleanup run); its run stays in the history, marked deleted. */
    delete: channel(idInput, runStarted, { method: 'DELETE', path: '/api/backups/:id', status: 202 }),
  },
  /** The landing page: every datasource's health and backups, every job's recent runs, in one bounded answer. */
  overview: {
    get: channel(overviewInput.strict().default({}), overview, { method: 'GET', path: '/api/overview' }),
  },
  notifications: {
    list: channel(notificationsListInput, z.array(notification), { method: 'GET', path: '/api/notifications' }),
    /** The bell's count, and how many of the unread are failures and warnings. */
    unreadCount: channel(none, unreadCount, { method: 'GET', path: '/api/notifications/unread-count' }),
    /** The given ones, or every unread one when `ids` is absent. */
    markRead: channel(z.object({ ids: z.array(uuid).max(500).optional() }), z.object({ updated: z.number() }), {
      method: 'POST',
      path: '/api/notifications/read',
    }),
    /** Sends a test through one sink now (one try, no retry) and answers its exact error. */
    test: channel(notificationTestInput, notificationTestResult, { method: 'POST', path: '/api/notifications/test' }),
  },
  settings: {
    get: channel(none, settings, { method: 'GET', path: '/api/system/settings' }),
    update: channel(settingsUpdate, settings, { method: 'PUT', path: '/api/system/settings' }),
  },
  /** Backups encrypted with age: the app's key, a recovery key never stored, extra public keys, write-only mode. */
  encryption: {
    /** Public keys and what the app can do with them; never an identity. */
    get: channel(none, encryptionState, { method: 'GET', path: '/api/encryption' }),
    /** Makes the app's key and a recovery key; answers the recovery key's identity this one time only. */
    setup: channel(setupInput, setupResult, { method: 'POST', path: '/api/encryption/setup' }),
    /** The extra public keys (a colleague's age1…), as a list that replaces the previous one. */
    recipients: channel(recipientsInput, encryptionState, { method: 'POST', path: '/api/encryption/recipients' }),
    /** Does this key open the latest backups? Read from storage; the key is used for this call only. */
    checkRecovery: channel(checkRecoveryInput, checkRecoveryResult, { method: 'POST', path: '/api/encryption/check-recovery' }),
    /** Deletes the app's identity: backups go on, on public keys; only the recovery key opens them. */
    writeOnly: channel(writeOnlyInput, encryptionState, { method: 'POST', path: '/api/encryption/write-only' }),
  },
  /** The recovery kit: the whole configuration with its secrets, as one age file to the recovery key. */
  config: {
    export: channel(configExportInput, configExportResult, { method: 'POST', path: '/api/config/export' }),
    /** On a fresh install, with the recovery key: datasources, storages, jobs, settings and keys come back. */
    import: channel(configImportInput, configImportResult, { method: 'POST', path: '/api/config/import' }),
  },
} as const satisfies Record<string, Record<string, Channel>>;

export type Contract = typeof contract;
export type Group = keyof Contract;
export type ChannelName = { [G in Group]: `${G}.${keyof Contract[G] & string}` }[Group];

type ChannelAt<N extends ChannelName> = N extends `${infer G extends Group}.${infer M}` ? (M extends keyof Contract[G] ? Contract[G][M] : never) : never;

/** What a caller sends (before defaults) and what it gets back. */
export type InputOf<N extends ChannelName> = ChannelAt<N> extends Channel<infer I, z.ZodType> ? z.input<I> : never;
export type OutputOf<N extends ChannelName> = ChannelAt<N> extends Channel<z.ZodType, infer O> ? z.output<O> : never;

export function channelNames(): ChannelName[] {
  return Object.entries(contract).flatMap(([group, channels]) => Object.keys(channels).map((m) => `${group}.${m}` as ChannelName));
}

export function channelOf(name: string): Channel | undefined {
  const [group, method] = name.split('.');
  const channels = (contract as Record<string, Record<string, Channel>>)[group ?? ''];
  return channels && method !== undefined && Object.hasOwn(channels, method) ? channels[method] : undefined;
}

/** Events flow from core to both transports. They are hints: the UI re-queries for the truth. */
export const events = {
  'execution.progress': executionProgress,
  'execution.status': executionStatusEvent,
  'notification.created': notification,
  /** The health monitor or a manual check changed a datasource's status (seed: `datasource:status-changed`). */
  'datasource.status': z.object({ datasource_id: uuid, status: datasourceStatus, previous: datasourceStatus, checked_at: isoDate }),
  /** A storage became reachable, unreachable or full. */
  'storage.status': z.object({ storage_id: uuid, status: storageStatus, previous: storageStatus, available_space_gb: z.number().nullable() }),
  /** Some were marked read: the bell and the tray count again. */
  'notification.read': z.object({ updated: z.number() }),
  'entity.changed': z.object({
    entity: z.enum(['datasource', 'storage', 'job', 'settings', 'execution']),
    id: z.string().nullable(),
    action: z.enum(['created', 'updated', 'deleted']),
  }),
} as const;
export type EventName = keyof typeof events;
export type EventPayload<E extends EventName> = z.output<(typeof events)[E]>;
export const EVENT_NAMES = Object.keys(events) as EventName[];
