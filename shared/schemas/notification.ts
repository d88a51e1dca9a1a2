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

/** `GET /api/notifications?type=connection_lost` (seed). */
export const notificationsListInput = z.object({
  type: z.enum(NOTIFICATION_TYPES).optional(),
  unread: z.coerce.boolean().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
