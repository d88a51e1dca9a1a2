import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** What a webhook endpoint received. */
export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown> & { [key: string]: unknown };
}

/**
 * A real HTTP server on loopback standing in for Slack, Discord or any webhook: it records every POST
 * and answers the statuses queued with `answer` (then 200).
 */
export async function startWebhookReceiver() {
  const received: Received[] = [];
  const statuses: number[] = [];
  let redirectTo: string | null = null;
  const server = http.createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: text ? JSON.parse(text) : {} });
      if (redirectTo) {
        res.writeHead(307, { Location: redirectTo }).end();
        return;
      }
      const status = statuses.shift() ?? 200;
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(status === 200 ? 'ok' : 'upstream trouble');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    /** The next answers, in order (e.g. 500, 500, 500). */
    answer: (...next: number[]) => void statuses.push(...next),
    redirect: (to: string | null) => void (redirectTo = to),
    reset: () => {
      received.length = 0;
      statuses.length = 0;
      redirectTo = null;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A header's RFC 2047 encoded words (`=?UTF-8?Q?…?=`, `=?UTF-8?B?…?=`) as text; the space between two of them is not part of the text. */
function decodeWords(header: string): string {
  return header.replace(/\?=\s+=\?/g, '?==?').replace(/=\?utf-8\?([QB])\?([^?]*)\?=/gi, (_m, encoding: string, text: string) =>
    encoding.toUpperCase() === 'B'
      ? Buffer.from(text, 'base64').toString('utf8')
      : Buffer.from(
          text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_q, hex: string) => String.fromCharCode(parseInt(hex, 16))),
          'latin1',
        ).toString('utf8'),
  );
}

export interface ReceivedMail {
  from: string;
  to: string[];
  user: string | undefined;
  raw: string;
  subject: string;
  /** The text body, quoted-printable undone. */
  text: string;
}

/**
 * A real SMTP server (smtp-server) on loopback with a login: `user` / `password`. STARTTLS is off (a
 * loopback relay, as a NAS's own postfix often is), so the app logs in without TLS only because it is loopback.
 */
export async function startSmtpReceiver(user: string, password: string) {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: false,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === password) callback(null, { user: auth.username });
      else callback(Object.assign(new Error('Authentication failed'), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (raw += chunk));
      stream.on('end', () => {
        const [head = '', ...rest] = raw.split('\r\n\r\n');
        const headers = head.replace(/\r\n[ \t]+/g, ' ');
        const body = rest.join('\r\n\r\n');
        const quoted = /content-transfer-encoding:\s*quoted-printable/i.test(headers);
        // Quoted-printable bodies are ASCII: undo the escapes byte by byte, then read the bytes as UTF-8.
        const unquote = (s: string) => s.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
        const text = quoted ? Buffer.from(unquote(body), 'latin1').toString('utf8') : body;
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user,
          raw,
          subject: decodeWords(/^subject: (.*)$/im.exec(headers)?.[1] ?? ''),
          text,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { host: '127.0.0.1', port, mails, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
