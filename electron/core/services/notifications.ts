import { In, IsNull } from 'typeorm';
import { Notifications } from '../db/entities.js';
import type { Handlers } from './handlers.js';
import { toNotification } from '../notify/notifier.js';
import type { ServiceContext } from './context.js';

export function notificationService(ctx: ServiceContext): Handlers['notifications'] {
  const repo = ctx.db.getRepository(Notifications);
  return {
    async list({ type, unread, limit }) {
      const rows = await repo.find({
        where: { ...(type ? { type } : {}), ...(unread ? { read_at: IsNull() } : {}) },
        order: { created_at: 'DESC' },
        take: limit,
      });
      return rows.map(toNotification);
    },
    async markRead({ ids }) {
      const where = ids ? { id: In(ids), read_at: IsNull() } : { read_at: IsNull() };
      const result = await repo.update(where, { read_at: new Date() });
      return { updated: result.affected ?? 0 };
    },
  };
}
