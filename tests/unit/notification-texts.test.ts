// Every kind of notification, built by the functions the core sends them with, read as a person reads
// it in the inbox, a desktop notification, an e-mail and a webhook message: no ISO timestamp, no bare
// byte count, no "file(s)"; sizes in KB/MB/GB, dates in words, a folder's contents in files.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConnectionTestResult } from '../../shared/schemas/datasource.js';
import type { NOTIFICATION_TYPES } from '../../shared/schemas/enums.js';
import type { Notification } from '../../shared/schemas/notification.js';
import type { DatasourceRow, JobRow, StorageRow } from '../../electron/core/db/entities.js';
import type { Condition } from '../../electron/core/health/conditions.js';
import { datasourceMessage } from '../../electron/core/health/datasource.js';
import { overdueMessage } from '../../electron/core/health/overdue.js';
import { fullMessage, unreachableMessage } from '../../electron/core/health/storage.js';
import { emailOf } from '../../electron/core/notify/email.js';
import {
  backupCompleted,
  backupFailed,
  cleanupCompleted,
  restoreCompleted,
  restoredByHand,
  restoreFailed,
  runFailed,
  verifyFailed,
} from '../../electron/core/notify/messages.js';
import { deliveryFailed, type NewNotification } from '../../electron/core/notify/notifier.js';
import { webhookBody } from '../../electron/core/notify/webhook.js';

const ID = '6f1d2c3b-4a59-4e8f-9a0b-1c2d3e4f5a6b';
const OTHER = '7a2e3d4c-5b6a-4f9e-8b1c-2d3e4f5a6b7c';
const now = new Date('2026-12-07T14:35:00.063Z');
const hourAgo = new Date(now.getTime() - 3_600_000);
const dayAgo = new Date(now.getTime() - 86_400_000);

const datasource = { id: ID, name: 'Documents', type: 'files', status: 'critical' } as DatasourceRow;
const storage = { id: OTHER, name: 'USB disk' } as StorageRow;
const job = { id: OTHER, name: 'Documents every minute' } as JobRow;
const condition = (level: 'warning' | 'critical'): Condition => ({
  kind: 'k',
  entity_id: ID,
  level,
  raised_at: dayAgo,
  last_notified_at: hourAgo,
  cleared_at: null,
});
const answered: ConnectionTestResult = { status: 'ok', ok: true, latency_ms: 1450, message: 'Connected in 1450 ms', metadata: {} };
const failedCheck: ConnectionTestResult = { status: 'unreachable', ok: false, latency_ms: null, message: 'Folder not found: /srv/docs', metadata: {} };

/** Every notification type, with the situations that send it: the compiler refuses a type left out. */
const SAMPLES: Record<(typeof NOTIFICATION_TYPES)[number], NewNotification[]> = {
  backup_success: [
    backupCompleted({ jobId: OTHER, executionId: ID, datasourceName: 'Documents', parts: 1, storedBytes: 3_645_312, storedOn: ['USB disk'], failedCopies: [] }),
    backupCompleted({
      jobId: OTHER,
      executionId: ID,
      datasourceName: 'Documents',
      parts: 3,
      storedBytes: 7_340_032_000,
      storedOn: ['USB disk', 'NAS'],
      failedCopies: ['S3: access denied'],
    }),
  ],
  backup_failed: [
    backupFailed({ jobId: OTHER, jobName: 'Documents every minute', executionId: ID, message: 'Folder not found: /srv/docs' }),
    runFailed({ operation: 'cleanup', jobId: null, executionId: ID, message: 'connection refused' }),
    restoreFailed({ datasourceId: ID, executionId: ID, target: '/srv/docs', message: 'Disk full. /srv/docs was not touched.', touched: false }),
    verifyFailed({
      jobId: OTHER,
      executionId: ID,
      sourceExecutionId: OTHER,
      jobName: 'Documents every minute',
      backupTakenAt: hourAgo,
      method: 'checksum',
      message: 'Damaged or unreadable: USB disk (checksum mismatch)',
    }),
  ],
  connection_lost: [datasourceMessage(datasource, failedCheck, 1000, 'raised', condition('warning'), now)],
  connection_restored: [datasourceMessage(datasource, answered, 2000, 'cleared', condition('critical'), now)],
  health_degraded: [
    datasourceMessage({ ...datasource, status: 'warning' }, answered, 1000, 'raised', null, now),
    datasourceMessage({ ...datasource, status: 'healthy' }, answered, 2000, 'cleared', condition('warning'), now),
  ],
  storage_full: [
    fullMessage(storage, 'only 1.2 GB free, less than 1.5× its largest recent backup (900 MB): the next backup may not fit', 'raised', null, now),
    fullMessage(storage, null, 'cleared', condition('warning'), now),
  ],
  storage_unreachable: [unreachableMessage(storage, 'EACCES: permission denied.', 'reminder', condition('critical'), now)],
  cleanup_completed: [
    cleanupCompleted({ jobId: OTHER, jobName: 'Documents', executionId: ID, deleted: [ID, OTHER], bytesFreed: 3_645_312, kept: 3, failures: [] }),
    cleanupCompleted({ jobId: OTHER, jobName: 'Documents', executionId: ID, deleted: [ID], bytesFreed: 1024, kept: 1, failures: ['NAS: timeout'] }),
  ],
  restore_completed: [
    restoreCompleted({
      datasourceId: ID,
      datasourceName: 'Documents',
      datasourceType: 'files',
      target: '/srv/docs',
      backupTakenAt: hourAgo,
      executionId: ID,
      sourceExecutionId: OTHER,
      summary: { tables: 0, rows: 55 },
    }),
    restoreCompleted({
      datasourceId: ID,
      datasourceName: 'Shop',
      datasourceType: 'postgres',
      target: 'database shop on Shop',
      backupTakenAt: hourAgo,
      executionId: ID,
      sourceExecutionId: OTHER,
      summary: { tables: 12, rows: 120_345, estimated: true },
    }),
    restoredByHand({
      datasourceId: ID,
      datasourceName: 'Shop',
      executionId: ID,
      backupTakenAt: hourAgo,
      restoredAt: now.toISOString(),
      by: 'Ana',
      reason: null,
    }),
  ],
  backup_overdue: [overdueMessage(job, 'raised', dayAgo, now), overdueMessage(job, 'cleared', hourAgo, now)],
  delivery_failed: [
    deliveryFailed({ sink: 'webhook', label: 'webhook', notification: { id: ID, title: 'Backup of Documents completed' }, reason: 'HTTP 502', earlier: 2 }),
  ],
};

const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
/** A number of 4 digits or more standing alone is a count of bytes (or of milliseconds) nobody reads at a glance. */
const BARE_NUMBER = /(?<![\d.,:/-])\d{4,}(?![\d.,:/-])(?!\s*(ms|KB|MB|GB|TB|files?|rows?|tables?))/;
const ROBOT = /\bbytes?\b|\(s\)|\b[0-9a-f]{8}-[0-9a-f]{4}-/i;

function readable(where: string, text: string) {
  assert.doesNotMatch(text, ISO, `${where}: an ISO timestamp in “${text}”`);
  assert.doesNotMatch(text, BARE_NUMBER, `${where}: a bare number in “${text}”`);
  assert.doesNotMatch(text, ROBOT, `${where}: machine words in “${text}”`);
}

/** A notification as stored: what the sinks are handed. */
const stored = (n: NewNotification): Notification => ({
  ...n,
  type: n.type as Notification['type'],
  id: ID,
  metadata: n.metadata ?? null,
  read_at: null,
  created_at: now.toISOString(),
});

test('every kind of notification reads in human units in the inbox, an e-mail and each webhook format', () => {
  for (const [type, samples] of Object.entries(SAMPLES)) {
    assert.ok(samples.length > 0, `${type}: no sample`);
    for (const n of samples) {
      assert.equal(n.type, type);
      readable(`${type} title`, n.title);
      readable(`${type} message`, n.message);
      const email = emailOf(stored(n), 'https://nas.lan:8080');
      readable(`${type} e-mail subject`, email.subject);
      // The link carries an id on purpose; the words around it must not.
      readable(`${type} e-mail`, email.text.replace(/^Open: .*$/m, ''));
      const slack = webhookBody(stored(n), 'slack', null) as { text: string; blocks: { text?: { text: string }; elements?: { text: string }[] }[] };
      readable(`${type} Slack`, [slack.text, ...slack.blocks.map((b) => b.text?.text ?? b.elements?.map((e) => e.text).join(' ') ?? '')].join('\n'));
      const discord = webhookBody(stored(n), 'discord', null) as { content: string; embeds: { description: string; fields: { value: string }[] }[] };
      readable(`${type} Discord`, [discord.content, discord.embeds[0]!.description, ...discord.embeds[0]!.fields.map((f) => f.value)].join('\n'));
    }
  }
});

test('sizes, dates and a folder’s contents are said the human way', () => {
  const [done] = SAMPLES.backup_success;
  assert.match(done!.message, /^3\.5 MB in 1 file on USB disk\.$/);
  assert.match(SAMPLES.backup_success[1]!.message, /USB disk and NAS; these copies failed: S3: access denied/);
  assert.match(SAMPLES.cleanup_completed[0]!.title, /2 old backups deleted/);
  assert.match(SAMPLES.cleanup_completed[0]!.message, /^3\.5 MB freed; 3 backups kept\.$/);
  const [folder, database] = SAMPLES.restore_completed;
  assert.match(folder!.message, /^\/srv\/docs now holds the backup of .*2026.* \(55 files\)\.$/);
  assert.match(database!.message, /\(12 tables, about 120,345 rows\)/);
  assert.match(emailOf(stored(done!), null).text, /Type: Backup completed\nWhen: .*2026/);
});
