import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { NOTIFICATION_SEVERITIES, type NotificationRoute, type NotificationSeverity, type NotificationType } from '../../../shared/schemas/enums.js';
import type { Notification } from '../../../shared/schemas/notification.js';
import type { Settings } from '../../../shared/schemas/settings.js';
import { Notifications, type NotificationRow } from '../db/entities.js';
import type { CoreContext } from '../kernel/context.js';
import { scoped } from '../kernel/log.js';
import { readSettings } from '../kernel/settings.js';
import { counted } from '../../../shared/format.js';

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
type FloorKey = 'notifications.webhook_min_severity' | 'notifications.email_min_severity';

/**
 * Which notifications a sink is handed: those from its severity floor up (webhook, e-mail), or those
 * whose kind Settings route to the desktop (`route`).
 */
type Admission = { floor: FloorKey } | { route: 'desktop' };

interface Registered {
  sink: Sink;
  label: string;
  admits?: Admission;
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

  /** Adds (or replaces) a sink under a name; `admits` says which notifications it is handed (all without). Returns its removal. */
  addSink(name: string, sink: Sink, options: { label?: string; admits?: Admission } = {}): () => void {
    const entry = { sink, label: options.label ?? name, admits: options.admits };
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

  /**
   * Sends a notification where Settings route its kind: into the inbox (told to the UI and the tray),
   * or, for a kind that is off, nowhere in the app (it stays in Activity); webhook and e-mail then get
   * it by their severity floors either way.
   */
  async notify(input: NewNotification): Promise<Notification> {
    const settings = await readSettings(this.ctx.db).catch((e: unknown) => {
      log.error(`"${input.title}" goes to the inbox: the settings could not be read`, e);
      return null;
    });
    const route = settings ? routeOf(input, settings) : 'inbox';
    const values = { ...input, title: input.title.slice(0, 255), metadata: input.metadata ?? null };
    let out: Notification;
    if (route === 'off') {
      out = toNotification({ ...values, id: randomUUID(), read_at: null, created_at: this.ctx.clock.now() });
    } else {
      const repo = this.ctx.db.getRepository(Notifications);
      out = toNotification(await repo.save(repo.create(values)));
      this.ctx.events.emit('notification.created', out);
    }
    if (!this.closing.signal.aborted) this.track(this.route(out, route, settings));
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

  /** Hands `n` to each sink that admits it, in the background; `settings` null: they could not be read when it was sent. */
  private async route(n: Notification, route: NotificationRoute, known: Settings | null): Promise<void> {
    let settings: Settings;
    try {
      settings = known ?? (await readSettings(this.ctx.db));
    } catch (e) {
      log.error(`"${n.title}" reached the inbox only: the settings could not be read`, e);
      return;
    }
    const failedSink = n.type === 'delivery_failed' ? n.metadata?.sink : undefined;
    await Promise.all(
      [...this.sinks]
        .filter(([name, { admits }]) => name !== failedSink && admitted(admits, n, route, settings))
        .map(async ([name, { sink, label }]) => {
          try {
            await sink(n, { settings, signal: this.closing.signal });
          } catch (e) {
            await this.reportFailure(name, label, n, (e as Error).message);
          }
        }),
    );
  }

  private async reportFailure(name: string, label: string, n: Notification, reason: string): Promise<void> {
    log.warn(`the ${label} could not deliver "${n.title}": ${reason}`);
    if (this.closing.signal.aborted) return;
    const now = this.ctx.clock.now().getTime();
    const last = this.failures.get(name);
    if (last && now - last.noticedAt < FAILURE_NOTICE_INTERVAL_MS) {
      last.since++;
      return;
    }
    this.failures.set(name, { noticedAt: now, since: 0 });
    try {
      await this.notify(deliveryFailed({ sink: name, label, notification: n, reason, earlier: last?.since ?? 0 }));
    } catch (e) {
      log.error(`the ${label}'s failure could not be saved in the inbox`, e);
    }
  }
}

/** Where Settings send a notification in the app; a warning or worse is always kept in the inbox. */
function routeOf(n: Pick<NewNotification, 'type' | 'severity'>, settings: Settings): NotificationRoute {
  const route = settings['notifications.routing'][n.type as NotificationType] ?? 'inbox';
  return route === 'off' && n.severity !== 'info' ? 'inbox' : route;
}

function admitted(admits: Admission | undefined, n: Notification, route: NotificationRoute, settings: Settings): boolean {
  if (!admits) return true;
  if ('route' in admits) return route === admits.route;
  return rank(n.severity) >= rank(settings[admits.floor]);
}

/** What the inbox says when a sink could not deliver `notification`; `earlier` failed since the last such entry. */
export function deliveryFailed(a: {
  sink: string;
  label: string;
  notification: Pick<Notification, 'id' | 'title'>;
  reason: string;
  earlier: number;
}): NewNotification {
  const earlier = a.earlier ? ` ${counted(a.earlier, 'more notification')} failed before this one.` : '';
  return {
    type: 'delivery_failed',
    severity: 'warning',
    entity_type: 'system',
    entity_id: SYSTEM_ENTITY_ID,
    title: `${a.label[0]!.toUpperCase()}${a.label.slice(1)} delivery failed: ${a.reason}`,
    message: `"${a.notification.title}" did not reach the ${a.label}: ${a.reason}. Check it in Settings and use "Send test".${earlier} Further failures of the ${a.label} within the hour are only logged.`,
    metadata: { sink: a.sink, notification_id: a.notification.id, reason: a.reason },
  };
}
