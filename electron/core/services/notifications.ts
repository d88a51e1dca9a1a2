import { In, IsNull } from 'typeorm';
import { Notifications } from '../db/entities.js';
import type { Handlers } from './handlers.js';
import { toNotification } from '../notify/notifier.js';
import type { ServiceContext } from './context.js';

export function notificationService(ctx: ServiceContext): Handlers['notifications'] {
  const repo = ctx.db.getRepository(Notifications);
  return {
    async list({ type, severity, unread, limit, offset }) {
      const rows = await repo.find({
        where: { ...(type ? { type } : {}), ...(severity ? { severity } : {}), ...(unread ? { read_at: IsNull() } : {}) },
        // The id breaks ties, so pages never repeat or skip one of several made in the same instant.
        order: { created_at: 'DESC', id: 'DESC' },
        take: limit,
        skip: offset,
      });
      return rows.map(toNotification);
    },
    async unreadCount() {
      const rows: { severity: string; count: string }[] = await ctx.db.query(
        'SELECT severity, count(*) AS count FROM notifications WHERE read_at IS NULL GROUP BY severity',
      );
      const of = (severity: string) => Number(rows.find((r) => r.severity === severity)?.count ?? 0);
      return { unread: rows.reduce((sum, r) => sum + Number(r.count), 0), critical: of('critical'), warning: of('warning') };
    },
    async markRead({ ids }) {
      const where = ids ? { id: In(ids), read_at: IsNull() } : { read_at: IsNull() };
      const result = await repo.update(where, { read_at: ctx.clock.now() });
      const updated = result.affected ?? 0;
      if (updated) ctx.events.emit('notification.read', { updated });
      return { updated };
    },
  };
}
