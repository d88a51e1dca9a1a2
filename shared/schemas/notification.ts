import { z } from 'zod';
import { isoDate, uuid } from './common.js';
import { NOTIFICATION_ENTITY_TYPES, NOTIFICATION_SEVERITIES, NOTIFICATION_TYPES, notificationSink, webhookFormat } from './enums.js';
import { smtpConfig, webhookUrl } from './settings.js';

export const notification = z.object({
  id: uuid,
  type: z.enum(NOTIFICATION_TYPES),
  severity: z.enum(NOTIFICATION_SEVERITIES),
  entity_type: z.enum(NOTIFICATION_ENTITY_TYPES),
  entity_id: uuid,
  title: z.string(),
  message: z.string(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  read_at: isoDate.nullable(),
  created_at: isoDate,
});
export type Notification = z.output<typeof notification>;

/** A query string says `true`/`false` in words: `z.coerce.boolean()` would read "false" as true. */
const flag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')], {
  message: 'Must be true or false',
});

/** `GET /api/notifications?type=connection_lost&severity=critical&offset=100` (seed, plus severity and pages). */
export const notificationsListInput = z.object({
  type: z.enum(NOTIFICATION_TYPES).optional(),
  severity: z.enum(NOTIFICATION_SEVERITIES).optional(),
  unread: flag.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** How many of the newest (that match) to skip: the next page. */
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});

/**
 * "Send test" of one sink. The form's unsaved values may come along (a webhook URL and format, an SMTP
 * server); what is left out is read from the saved settings. A saved SMTP password only follows while
 * host, port and username stay the same.
 */
export const notificationTestInput = z
  .object({
    sink: notificationSink,
    webhook_url: webhookUrl.optional(),
    webhook_format: webhookFormat.optional(),
    smtp: smtpConfig.optional(),
  })
  .strict();

/** The sink's own words on failure: "HTTP 502", "535 Authentication failed", "connection refused on port 587". */
export const notificationTestResult = z.object({ ok: z.boolean(), message: z.string() });
export type NotificationTestResult = z.output<typeof notificationTestResult>;
export const unreadCount = z.object({ unread: z.number().int(), critical: z.number().int(), warning: z.number().int() });
