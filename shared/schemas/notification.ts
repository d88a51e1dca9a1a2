import { z } from 'zod';
import { isoDate, uuid } from './common.js';
import { NOTIFICATION_ENTITY_TYPES, NOTIFICATION_SEVERITIES, NOTIFICATION_TYPES } from './enums.js';

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

export const unreadCount = z.object({ unread: z.number().int(), critical: z.number().int(), warning: z.number().int() });
