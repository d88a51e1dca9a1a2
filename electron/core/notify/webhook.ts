import type { WebhookFormat } from '../../../shared/schemas/enums.js';
import { dateTime } from '../../../shared/format.js';
import type { Notification } from '../../../shared/schemas/notification.js';
import { notificationTypeLabel } from '../../../shared/words.js';
import { appVersion } from '../kernel/app-version.js';
import type { Clock } from '../kernel/clock.js';
import { DeliveryError, withRetries, type DeliveryOptions } from './delivery.js';
import { linkOf } from './links.js';
import type { Sink } from './notifier.js';

type Fields = Pick<Notification, 'id' | 'type' | 'severity' | 'title' | 'message' | 'entity_type' | 'entity_id' | 'metadata' | 'created_at'>;

const SEVERITY_LABEL = { info: 'Info', warning: 'Warning', critical: 'Critical' } as const;
const SEVERITY_ICON = { info: ':information_source:', warning: ':warning:', critical: ':rotating_light:' } as const;
const DISCORD_COLOR = { info: 0x3b82f6, warning: 0xf59e0b, critical: 0xdc2626 } as const;

// Slack's mrkdwn reads &, < and > as markup: a datasource named "<!channel>" must not ping anyone.
const slackText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const cut = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** The body the webhook receives, in the chosen shape. Every shape carries the title, the message, the severity, the time and the link. */
export function webhookBody(n: Fields, format: WebhookFormat, appUrl: string | null): Record<string, unknown> {
  const link = linkOf(n, appUrl);
  if (format === 'slack') {
    const context = [
      `*${SEVERITY_LABEL[n.severity]}*`,
      notificationTypeLabel(n.type),
      dateTime(n.created_at),
      ...(link ? [`<${link}|Open in DataGuardian>`] : []),
    ].join(' · ');
    return {
      text: cut(`${SEVERITY_LABEL[n.severity]}: ${n.title}`, 3000),
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: cut(`${SEVERITY_ICON[n.severity]} *${slackText(n.title)}*\n${slackText(n.message)}`, 3000) } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: context }] },
      ],
    };
  }
  if (format === 'discord') {
    return {
      content: cut(`**${SEVERITY_LABEL[n.severity]}**: ${n.title}`, 2000),
      embeds: [
        {
          title: cut(n.title, 256),
          description: cut(n.message || '—', 4096),
          color: DISCORD_COLOR[n.severity],
          timestamp: n.created_at,
          ...(link ? { url: link } : {}),
          fields: [
            { name: 'Severity', value: SEVERITY_LABEL[n.severity], inline: true },
            { name: 'Type', value: notificationTypeLabel(n.type), inline: true },
          ],
          footer: { text: 'DataGuardian' },
        },
      ],
      // A message quoting "@everyone" (a job named so, a server's error) must not ping the channel.
      allowed_mentions: { parse: [] },
    };
  }
  return {
    id: n.id,
    type: n.type,
    severity: n.severity,
    title: n.title,
    message: n.message,
    entity_type: n.entity_type,
    entity_id: n.entity_id,
    link,
    created_at: n.created_at,
    source: 'DataGuardian',
    test: n.metadata?.test === true,
  };
}

/** What went wrong on the way, in the admin's words: "connection refused on port 8080", "no answer within 10 s". */
function networkError(e: unknown, url: URL, timeoutMs: number): DeliveryError {
  const error = e as Error & { cause?: { code?: string; message?: string } };
  if (error.name === 'TimeoutError') return new DeliveryError(`no answer from ${url.host} within ${Math.round(timeoutMs / 1000)} s`, true);
  if (error.name === 'AbortError') return new DeliveryError('cancelled: the app is closing', false);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  switch (error.cause?.code) {
    case 'ECONNREFUSED':
      return new DeliveryError(`connection refused on port ${port} of ${url.hostname}`, true);
    case 'ENOTFOUND':
      return new DeliveryError(`the host ${url.hostname} was not found (check the URL)`, false);
    case 'ECONNRESET':
      return new DeliveryError(`${url.host} closed the connection`, true);
    default:
      return new DeliveryError(error.cause?.message ?? error.message, true);
  }
}

/**
 * One POST of `body`. Redirects are not followed: the alert goes only to the address typed in
 * Settings, never on to another host a redirect names; the error says where it pointed, to fix the URL.
 */
export async function postWebhook(url: string, body: unknown, timeoutMs: number, signal?: AbortSignal): Promise<number> {
  const target = new URL(url);
  let res: Response;
  try {
    res = await fetch(target, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': `DataGuardian/${appVersion()}` },
      body: JSON.stringify(body),
      redirect: 'manual',
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    throw networkError(e, target, timeoutMs);
  }
  const answer = (await res.text().catch(() => '')).trim().slice(0, 200);
  if (res.status >= 300 && res.status < 400) {
    const location = res.headers.get('location');
    throw new DeliveryError(
      `HTTP ${res.status}: the webhook redirects${location ? ` to ${new URL(location, target).origin}` : ''}, which DataGuardian does not follow; put the final URL in Settings`,
      false,
    );
  }
  if (!res.ok) {
    // A server error, a timeout or "too many requests" may pass; a 4xx (wrong URL, revoked hook) will not.
    const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
    throw new DeliveryError(`HTTP ${res.status}${answer ? ` (${answer})` : ''}`, retryable);
  }
  return res.status;
}

/** The webhook sink: one POST per notification when a URL is set, retried with backoff. */
export function webhookSink(clock: Clock, options: DeliveryOptions): Sink {
  return async (n, { settings, signal }) => {
    const url = settings['notifications.webhook_url'];
    if (!url) return;
    const body = webhookBody(n, settings['notifications.webhook_format'], settings['notifications.app_url']);
    await withRetries(
      async () => {
        await postWebhook(url, body, options.timeoutMs, signal);
      },
      options,
      clock,
      signal,
    );
  };
}
