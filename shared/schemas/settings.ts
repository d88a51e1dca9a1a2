import { z } from 'zod';
import { notificationRoute, notificationSeverity, webhookFormat, type NotificationRoute, type NotificationType } from './enums.js';

const optionalPath = { schema: z.string().trim().nullable(), default: null };

/** `/…`, `C:\…` or `\\server\…`. */
const ABSOLUTE = /^(\/|[A-Za-z]:[\\/]|\\\\)/;

/**
 * The temp folder's old default, still stored in the settings of earlier installations: it means
 * "not set" (a predictable shared path is what the private temp folder replaces).
 */
export const LEGACY_TEMP_DIRECTORY = '/tmp/dataguardian';

/** A webhook is called over http(s) only: no file:, data: or other scheme reaches fetch. */
export const webhookUrl = z.url({ protocol: /^https?$/, message: 'Webhook must be an http(s) URL' });

/**
 * The SMTP server for e-mail alerts. `secure`: TLS from the first byte (usually port 465); otherwise
 * STARTTLS (usually 587). The password is sealed at rest and comes back as `password_set` only; on
 * input, "" or absent keeps the saved one and null clears it.
 */
export const smtpConfig = z.object({
  host: z.string().trim().optional(),
  port: z.coerce.number().int().min(1, { message: 'Port must be 1–65535' }).max(65535, { message: 'Port must be 1–65535' }).optional(),
  secure: z.boolean().optional(),
  username: z.string().optional(),
  password: z.string().nullable().optional(),
  password_set: z.boolean().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
});
export type SmtpConfig = z.output<typeof smtpConfig>;

/**
 * Where each kind of notification goes in the app: `off` (Activity only: nothing in the inbox), `inbox`
 * (an unread entry and the bell), `desktop` (also a desktop notification). Quiet by default: a routine
 * success stays in Activity; what needs the user (failures, health, overdue, a full storage, a failing
 * delivery, a finished restore) is kept unread. A warning or worse never goes below the inbox, whatever
 * its kind says. Webhook and e-mail follow their own severity floors.
 */
export const DEFAULT_ROUTES: Record<NotificationType, NotificationRoute> = {
  backup_success: 'off',
  cleanup_completed: 'off',
  backup_failed: 'desktop',
  connection_lost: 'desktop',
  connection_restored: 'inbox',
  health_degraded: 'desktop',
  storage_full: 'desktop',
  storage_unreachable: 'desktop',
  backup_overdue: 'desktop',
  delivery_failed: 'desktop',
  restore_completed: 'inbox',
};

const route = (type: NotificationType) => notificationRoute.default(DEFAULT_ROUTES[type]);
/** Every kind's route; a kind left out keeps its default. */
const notificationRouting = z
  .object({
    backup_success: route('backup_success'),
    cleanup_completed: route('cleanup_completed'),
    backup_failed: route('backup_failed'),
    connection_lost: route('connection_lost'),
    connection_restored: route('connection_restored'),
    health_degraded: route('health_degraded'),
    storage_full: route('storage_full'),
    storage_unreachable: route('storage_unreachable'),
    backup_overdue: route('backup_overdue'),
    delivery_failed: route('delivery_failed'),
    restore_completed: route('restore_completed'),
  } satisfies Record<NotificationType, unknown>)
  .strict();

/** The seed's `system_settings` keys, plus where to find client tools: a schema and a default per key. */
export const SETTINGS = {
  'notifications.email_enabled': { schema: z.boolean(), default: false, description: 'Send alerts by e-mail' },
  'notifications.email_smtp_config': {
    schema: smtpConfig,
    default: {},
    description: 'SMTP server for e-mail alerts',
  },
  'notifications.email_min_severity': {
    schema: notificationSeverity,
    default: 'critical',
    description: 'E-mail alerts from this severity up',
  },
  'notifications.webhook_url': {
    schema: webhookUrl.nullable(),
    default: null,
    description: 'Webhook (Slack, Discord, ...) for alerts',
  },
  'notifications.webhook_format': {
    schema: webhookFormat,
    default: 'json',
    description: 'What the webhook receives: plain JSON, or the Slack or Discord message shape',
  },
  'notifications.webhook_min_severity': {
    schema: notificationSeverity,
    default: 'warning',
    description: 'Webhook alerts from this severity up',
  },
  'notifications.routing': {
    schema: notificationRouting,
    default: DEFAULT_ROUTES,
    description: 'Per kind of notification: off (Activity only), inbox, or inbox and a desktop notification',
  },
  'notifications.app_url': {
    schema: z.url({ protocol: /^https?$/, message: 'The address must be an http(s) URL, e.g. https://nas.lan:8080' }).nullable(),
    default: null,
    description: 'Address of this DataGuardian, for the links in webhook and e-mail alerts (empty: no link)',
  },
  'system.max_concurrent_backups': {
    schema: z.coerce.number().int().min(1, { message: 'At least 1' }).max(16, { message: 'At most 16' }),
    default: 3,
    description: 'How many backups may run at once',
  },
  'system.temp_directory': {
    schema: z.string().trim().regex(ABSOLUTE, { message: 'An absolute path, e.g. /mnt/big/dataguardian-temp' }).nullable(),
    default: null,
    description: 'Folder in which a private temporary folder is made (empty: inside the data folder)',
  },
  'system.health_check_interval_ms': {
    schema: z.coerce.number().int().min(10_000, { message: 'At least 10 seconds' }),
    default: 300_000,
    description: 'How often datasources are checked (ms)',
  },
  'system.health_latency_warning_ms': {
    schema: z.coerce.number().int().min(1, { message: 'At least 1 ms' }).max(600_000, { message: 'At most 10 minutes' }),
    default: 1_000,
    description: 'A datasource that answers slower than this is shown as warning (ms)',
  },
  'notifications.reminder_cooldown_hours': {
    schema: z.coerce
      .number()
      .min(1, { message: 'At least 1 hour' })
      .max(24 * 30, { message: 'At most 30 days' }),
    default: 24,
    description: 'While a problem lasts, remind of it at most this often (hours)',
  },
  'system.scheduler_interval_ms': {
    schema: z.coerce.number().int().min(1_000, { message: 'At least 1 second' }),
    default: 60_000,
    description: 'How often the scheduler looks for due jobs (ms)',
  },
  'schedules.paused': {
    schema: z.boolean(),
    default: false,
    description: 'Pause schedules: no job runs by itself, and slots missed meanwhile are not caught up',
  },
  'tools.postgres_bin_dir': { ...optionalPath, description: 'Folder with pg_dump/pg_restore (found automatically when empty)' },
  'tools.mysql_bin_dir': { ...optionalPath, description: 'Folder with mysqldump/mysql (found automatically when empty)' },
  'tools.mongodb_bin_dir': { ...optionalPath, description: 'Folder with mongodump/mongorestore (found automatically when empty)' },
} as const;

export type SettingKey = keyof typeof SETTINGS;
export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];
type Shape<Wrap extends 'default' | 'optional'> = {
  [K in SettingKey]: Wrap extends 'default' ? z.ZodDefault<(typeof SETTINGS)[K]['schema']> : z.ZodOptional<(typeof SETTINGS)[K]['schema']>;
};

/** Every setting, each falling back to its default. */
export const settings = z.object(
  Object.fromEntries(SETTING_KEYS.map((k) => [k, (SETTINGS[k].schema as z.ZodType).default(SETTINGS[k].default)])) as Shape<'default'>,
);
export type Settings = z.output<typeof settings>;

/** `PUT /api/system/settings`: any subset of the keys; unknown keys are refused. */
export const settingsUpdate = z.object(Object.fromEntries(SETTING_KEYS.map((k) => [k, SETTINGS[k].schema.optional()])) as Shape<'optional'>).strict();
