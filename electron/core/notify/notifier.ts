import { setTimeout as sleep } from 'node:timers/promises';
import { NOTIFICATION_SEVERITIES, type NotificationSeverity } from '../../../shared/schemas/enums.js';
import type { Notification } from '../../../shared/schemas/notification.js';
import type { Settings } from '../../../shared/schemas/settings.js';
import { Notifications, type NotificationRow } from '../db/entities.js';
import type { CoreContext } from '../kernel/context.js';
import { scoped } from '../kernel/log.js';
import { readSettings } from '../kernel/settings.js';

const log = scoped('notify');

export type NewNotification = Omit<NotificationRow, 'id' | 'read_at' | 'created_at' | 'metadata'> & {
  metadata?: Record<string, unknown>;
};

/** What a sink is handed with each notification: the settings as they are now, and an abort for when the app closes. */
export interface Delivery {
  settings: Settings;
  signal: AbortSignal;
}

/** Somewhere a notification goes besides the inbox: the desktop, a webhook, e-mail. Throwing means "not delivered". */
export type Sink = (notification: Notification, delivery: Delivery) => Promise<void> | void;

/** The setting that holds a sink's severity floor. */
export type FloorKey = 'notifications.desktop_min_severity' | 'notifications.webhook_min_severity' | 'notifications.email_min_severity';

interface Registered {
  sink: Sink;
  label: string;
  floor?: FloorKey;
}

/** The entity of notifications about the app itself (entity_type `system`). */
export const SYSTEM_ENTITY_ID = '00000000-0000-0000-0000-000000000000';

/** One inbox entry per failing sink per hour at most: a dead webhook must not bury the inbox. */
const FAILURE_NOTICE_INTERVAL_MS = 60 * 60 * 1000;

const rank = (s: NotificationSeverity) => NOTIFICATION_SEVERITIES.indexOf(s);

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
 * The one way a notification is sent, and the router to its sinks: kept in the inbox, told to the UI and
 * the tray as an event, then delivered in the background to every sink whose severity floor it reaches.
 * The work that notified never waits for a sink. A sink that fails leaves a `delivery_failed` inbox
 * entry, which goes to the other sinks but never back to the one that failed.
 */
export class Notifier {
  private readonly sinks = new Map<string, Registered>();
  private readonly pending = new Set<Promise<void>>();
  /** Per sink: when its last failure reached the inbox, and how many failed since (only logged). */
  private readonly failures = new Map<string, { noticedAt: number; since: number }>();
  private readonly closing = new AbortController();

  constructor(private readonly ctx: Pick<CoreContext, 'db' | 'events' | 'clock'>) {}

  /** Adds (or replaces) a sink under a name; `floor` names the setting below which it is skipped. Returns its removal. */
  addSink(name: string, sink: Sink, options: { label?: string; floor?: FloorKey } = {}): () => void {
    const entry = { sink, label: options.label ?? name, floor: options.floor };
    this.sinks.set(name, entry);
    return () => void (this.sinks.get(name) === entry && this.sinks.delete(name));
  }

  hasSink(name: string): boolean {
    return this.sinks.has(name);
  }

  /** Delivers to one sink now, whatever its floor (Settings' "Send test"); throws its error. */
  async deliverTo(name: string, notification: Notification): Promise<void> {
    const entry = this.sinks.get(name);
    if (!entry) throw new Error(`There is no ${name} sink`);
    await entry.sink(notification, { settings: await readSettings(this.ctx.db), signal: this.closing.signal });
  }

  async notify(input: NewNotification): Promise<Notification> {
    const repo = this.ctx.db.getRepository(Notifications);
    const row = await repo.save(repo.create({ ...input, title: input.title.slice(0, 255), metadata: input.metadata ?? null }));
    const out = toNotification(row);
    this.ctx.events.emit('notification.created', out);
    if (!this.closing.signal.aborted) this.track(this.route(out));
    return out;
  }

  /** Resolves once every delivery started so far has ended, the failure notices they caused included (tests, closing). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Closing the app: deliveries under way get `graceMs` to finish, then are cancelled. */
  async close(graceMs: number): Promise<void> {
    await Promise.race([this.settled(), sleep(graceMs, undefined, { ref: false })]);
    this.closing.abort(new Error('the app is closing'));
    await this.settled();
  }

  private track(work: Promise<void>): void {
    const tracked = work.finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  private async route(n: Notification): Promise<void> {
    let settings: Settings;
    try {
      settings = await readSettings(this.ctx.db);
    } catch (e) {
      log.error(`"${n.title}" reached the inbox only: the settings could not be read`, e);
      return;
    }
    const failedSink = n.type === 'delivery_failed' ? n.metadata?.sink : undefined;
    await Promise.all(
      [...this.sinks]
        .filter(([name, { floor }]) => name !== failedSink && (!floor || rank(n.severity) >= rank(settings[floor])))
        .map(async ([name, { sink, label }]) => {
          try {
            await sink(n, { settings, signal: this.closing.signal });
          } catch (e) {
            await this.deliveryFailed(name, label, n, (e as Error).message);
          }
        }),
    );
  }

  private async deliveryFailed(name: string, label: string, n: Notification, reason: string): Promise<void> {
    log.warn(`the ${label} could not deliver "${n.title}": ${reason}`);
    if (this.closing.signal.aborted) return;
    const now = this.ctx.clock.now().getTime();
    const last = this.failures.get(name);
    if (last && now - last.noticedAt < FAILURE_NOTICE_INTERVAL_MS) {
      last.since++;
      return;
    }
    this.failures.set(name, { noticedAt: now, since: 0 });
    const earlier = last?.since ? ` ${last.since} more ${last.since === 1 ? 'notification' : 'notifications'} failed before this one.` : '';
    try {
      await this.notify({
        type: 'delivery_failed',
        severity: 'warning',
        entity_type: 'system',
        entity_id: SYSTEM_ENTITY_ID,
        title: `${label[0]!.toUpperCase()}${label.slice(1)} delivery failed: ${reason}`,
        message: `"${n.title}" did not reach the ${label}: ${reason}. Check it in Settings and use "Send test".${earlier} Further failures of the ${label} within the hour are only logged.`,
        metadata: { sink: name, notification_id: n.id, reason },
      });
    } catch (e) {
      log.error(`the ${label}'s failure could not be saved in the inbox`, e);
    }
  }
}
