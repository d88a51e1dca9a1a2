import type { Notification } from '../../../shared/schemas/notification.js';
import { Notifications, type NotificationRow } from '../db/entities.js';
import { iso, type ServiceContext } from '../services/context.js';

export type NewNotification = Omit<NotificationRow, 'id' | 'read_at' | 'created_at' | 'metadata'> & {
  metadata?: Record<string, unknown>;
};

export function toNotification(row: NotificationRow): Notification {
  return {
    ...row,
    type: row.type as Notification['type'],
    metadata: row.metadata,
    read_at: iso(row.read_at),
    created_at: row.created_at.toISOString(),
  };
}

/** The in-app inbox; every notification is also an event, so the tray and the UI hear of it at once. */
export async function notify(ctx: Pick<ServiceContext, 'db' | 'events'>, input: NewNotification): Promise<Notification> {
  const repo = ctx.db.getRepository(Notifications);
  const row = await repo.save(repo.create({ ...input, title: input.title.slice(0, 255), metadata: input.metadata ?? null }));
  const out = toNotification(row);
  ctx.events.emit('notification.created', out);
  return out;
}
