import type SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { dateTime } from '../../../shared/format.js';
import type { Notification } from '../../../shared/schemas/notification.js';
import { notificationTypeLabel } from '../../../shared/words.js';
import type { SmtpConfig } from '../../../shared/schemas/settings.js';
import type { Clock } from '../kernel/clock.js';
import type { SecretBox } from '../kernel/secrets.js';
import { DeliveryError, withRetries, type DeliveryOptions } from './delivery.js';
import { linkOf } from './links.js';
import type { Sink } from './notifier.js';

type Fields = Pick<Notification, 'type' | 'severity' | 'title' | 'message' | 'entity_type' | 'entity_id' | 'metadata' | 'created_at'>;

export interface Email {
  subject: string;
  text: string;
}

const SEVERITY_LABEL = { info: 'Info', warning: 'Warning', critical: 'Critical' } as const;

export function emailOf(n: Fields, appUrl: string | null): Email {
  const link = linkOf(n, appUrl);
  return {
    subject: `[DataGuardian] ${SEVERITY_LABEL[n.severity]}: ${n.title}`,
    text: [
      n.message,
      '',
      `Severity: ${SEVERITY_LABEL[n.severity]}`,
      `Type: ${notificationTypeLabel(n.type)}`,
      `When: ${dateTime(n.created_at)}`,
      ...(link ? [`Open: ${link}`] : []),
    ].join('\n'),
  };
}

// A relay on this machine (a NAS's own postfix) often has no TLS; anywhere else the login is never sent in the clear.
const isLoopback = (host: string) => host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);

/** Why sending failed, with the server's own answer when there is one ("535 Authentication failed"). */
function smtpError(e: unknown, host: string, port: number, timeoutMs: number): DeliveryError {
  const error = e as SMTPConnection.SMTPError;
  const answer = error.response?.trim();
  const temporary = (error.responseCode ?? 0) >= 400 && (error.responseCode ?? 0) < 500;
  switch (error.code) {
    case 'EAUTH':
      return new DeliveryError(`${host}:${port} refused the login: ${answer ?? error.message}`, false);
    case 'ENOAUTH':
      return new DeliveryError(`${host}:${port} asks for a login: set the SMTP username and password`, false);
    case 'EREQUIRETLS':
      return new DeliveryError(`${host}:${port} does not offer STARTTLS, so the password would travel unencrypted: turn on TLS (usually port 465)`, false);
    case 'ETIMEDOUT':
      return new DeliveryError(`no answer from ${host}:${port} within ${Math.round(timeoutMs / 1000)} s`, true);
    case 'EDNS':
      return new DeliveryError(`the SMTP host ${host} was not found`, false);
    case 'ECONNECTION':
    case 'ESOCKET': {
      const refused = /ECONNREFUSED/.test(error.message);
      return refused
        ? new DeliveryError(`connection refused on port ${port} of ${host}`, true)
        : new DeliveryError(`${host}:${port}: ${error.message}`, !/certificate|SSL|TLS/i.test(error.message));
    }
    default:
      return new DeliveryError(answer ? `${host}:${port} answered: ${answer}` : error.message, temporary);
  }
}

/** Sends one e-mail through the SMTP server; `config` carries the opened password. One try. */
export async function sendEmail(config: SmtpConfig, email: Email, timeoutMs: number): Promise<void> {
  const { host, from, to } = config;
  if (!host || !from || !to) throw new DeliveryError('Set the SMTP host, the From address and whom to send alerts to', false);
  const secure = config.secure === true;
  const port = config.port ?? (secure ? 465 : 587);
  // Loaded on the first e-mail: most installations never send one, and every process would carry it.
  const { default: nodemailer } = await import('nodemailer');
  const transport = nodemailer.createTransport({
    host,
    port,
    secure,
    requireTLS: !secure && !isLoopback(host),
    auth: config.username ? { user: config.username, pass: config.password ?? '' } : undefined,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  try {
    await transport.sendMail({ from, to, subject: email.subject, text: email.text });
  } catch (e) {
    throw smtpError(e, host, port, timeoutMs);
  } finally {
    transport.close();
  }
}

/** The e-mail sink: when e-mail alerts are on, one e-mail per notification, retried like the webhook. */
export function emailSink(secrets: SecretBox, clock: Clock, options: DeliveryOptions): Sink {
  return async (n, { settings, signal }) => {
    if (!settings['notifications.email_enabled']) return;
    const config = secrets.openConfig(settings['notifications.email_smtp_config']) as SmtpConfig;
    const email = emailOf(n, settings['notifications.app_url']);
    await withRetries(() => sendEmail(config, email, options.timeoutMs), options, clock, signal);
  };
}
