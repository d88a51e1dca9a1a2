import type { Notification } from '../../../shared/schemas/notification.js';
import { Notifications, type NotificationRow } from '../db/entities.js';
import type { CoreContext } from '../kernel/context.js';
import { scoped } from '../kernel/log.js';

const log = scoped('notify');

export type NewNotification = Omit<NotificationRow, 'id' | 'read_at' | 'created_at' | 'metadata'> & {
  metadata?: Record<string, unknown>;
};

/** Somewhere a notification goes besides the inbox: the desktop, a webhook, e-mail. */
export type Sink = (notification: Notification) => Promise<void> | void;

export function toNotification(row: NotificationRow): Notification {
  return {
    ...row,
    type: row.type as Notification['type'],
    metadata: row.metadata,
    read_at: row.read_at ? row.read_at.toISOString() : null,
    created_at: row.created_at.toISOString(),
  };
}

/**
 * The one way a notification is sent: kept in the inbox, told to the UI and the tray as an event,
 * then handed to every sink. A sink that fails is logged; it never fails the work that notified.
 */
export class Notifier {
  private readonly sinks = new Map<string, Sink>();

  constructor(private readonly ctx: Pick<CoreContext, 'db' | 'events'>) {}

  /** Adds (or replaces) a sink under a name; returns its removal. */
  addSink(name: string, sink: Sink): () => void {
    this.sinks.set(name, sink);
    return () => void this.sinks.delete(name);
  }

  async notify(input: NewNotification): Promise<Notification> {
    const repo = this.ctx.db.getRepository(Notifications);
    const row = await repo.save(repo.create({ ...input, title: input.title.slice(0, 255), metadata: input.metadata ?? null }));
    const out = toNotification(row);
    this.ctx.events.emit('notification.created', out);
    await Promise.all(
      [...this.sinks].map(async ([name, sink]) => {
        try {
          await sink(out);
        } catch (e) {
          log.error(`the ${name} sink could not send "${out.title}"`, e);
        }
      }),
    );
    return out;
  }
}
