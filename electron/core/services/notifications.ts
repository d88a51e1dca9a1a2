import { randomUUID } from 'node:crypto';
import { In, IsNull } from 'typeorm';
import type { Notification, NotificationTestResult } from '../../../shared/schemas/notification.js';
import type { SmtpConfig } from '../../../shared/schemas/settings.js';
import { Notifications } from '../db/entities.js';
import { unreadBySeverity } from '../db/unread.js';
import { readSettings } from '../kernel/settings.js';
import { DELIVERY_DEFAULTS } from '../notify/delivery.js';
import { emailOf, sendEmail } from '../notify/email.js';
import { SYSTEM_ENTITY_ID, toNotification } from '../notify/notifier.js';
import { postWebhook, webhookBody } from '../notify/webhook.js';
import type { Handlers } from './handlers.js';
import type { ServiceContext } from './context.js';
import { resolveSmtp, SMTP_KEY } from './settings.js';
import { withRetypeHint } from './validate.js';

/** What "Send test" sends: never stored in the inbox, marked as a test in its metadata. */
function testNotification(now: Date): Notification {
  return {
    id: randomUUID(),
    type: 'backup_success',
    severity: 'info',
    entity_type: 'system',
    entity_id: SYSTEM_ENTITY_ID,
    title: 'DataGuardian test notification',
    message: 'Sent from Settings with "Send test". Alerts about backups, connections and storages will arrive here.',
    metadata: { test: true },
    read_at: null,
    created_at: now.toISOString(),
  };
}

const failed = (e: unknown): NotificationTestResult => ({ ok: false, message: (e as Error).message });

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
      const { critical, warning, info } = await unreadBySeverity(ctx.db);
      return { unread: critical + warning + info, critical, warning };
    },
    async markRead({ ids }) {
      const where = ids ? { id: In(ids), read_at: IsNull() } : { read_at: IsNull() };
      const result = await repo.update(where, { read_at: ctx.clock.now() });
      const updated = result.affected ?? 0;
      if (updated) ctx.events.emit('notification.read', { updated });
      return { updated };
    },
    // One try, no retry: the admin is waiting for the answer, and it is the server's own words.
    async test(input) {
      const settings = await readSettings(ctx.db);
      const sample = testNotification(ctx.clock.now());
      const appUrl = settings['notifications.app_url'];
      if (input.sink === 'webhook') {
        const url = input.webhook_url ?? settings['notifications.webhook_url'];
        if (!url) return { ok: false, message: 'Type the webhook URL first' };
        const body = webhookBody(sample, input.webhook_format ?? settings['notifications.webhook_format'], appUrl);
        return postWebhook(url, body, DELIVERY_DEFAULTS.timeoutMs).then((status) => ({ ok: true, message: `The webhook answered HTTP ${status}` }), failed);
      }
      if (input.sink === 'email') {
        const { config, withheld } = input.smtp
          ? resolveSmtp(ctx, input.smtp, settings[SMTP_KEY])
          : { config: ctx.secrets.openConfig(settings[SMTP_KEY]) as SmtpConfig, withheld: [] };
        return sendEmail(config, emailOf(sample, appUrl), DELIVERY_DEFAULTS.timeoutMs).then(
          () => ({ ok: true, message: `Sent to ${config.to}` }),
          (e) => ({ ok: false, message: withRetypeHint((e as Error).message, withheld) }),
        );
      }
      if (!ctx.notifier.hasSink('desktop')) {
        return { ok: false, message: 'Desktop notifications are shown by the desktop app only; on the headless server use the webhook or e-mail' };
      }
      return ctx.notifier.deliverTo('desktop', sample).then(() => ({ ok: true, message: 'Shown on this desktop' }), failed);
    },
  };
}
