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

/** `GET /api/notifications?type=connection_lost` (seed). */
export const notificationsListInput = z.object({
  type: z.enum(NOTIFICATION_TYPES).optional(),
  unread: z.coerce.boolean().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
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
