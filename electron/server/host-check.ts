import type { IncomingMessage } from 'node:http';
import { networkInterfaces } from 'node:os';

const WILDCARD = new Set(['0.0.0.0', '::', '[::]']);

/** `host` or `host:port` as a URL would spell its hostname (lower case, IPv6 in brackets), or null. */
function hostnameOf(value: string): string | null {
  try {
    const bracketed = value.includes(':') && !value.startsWith('[') && value.split(':').length > 2 ? `[${value}]` : value;
    const url = new URL(`http://${bracketed}`);
    return url.pathname === '/' && !url.username && !url.password && !url.search ? url.hostname : null;
  } catch {
    return null;
  }
}

/**
 * The names this server answers to: loopback, the address it is bound to (every interface's address for
 * 0.0.0.0 or ::), and the names its user listed (--allowed-host, DG_ALLOWED_HOSTS). A DNS-rebinding page
 * reaches the server under its own name, which is none of these.
 */
export function allowedHosts(bindHost: string, extra: readonly string[] = []): Set<string> {
  const names = ['127.0.0.1', 'localhost', '::1', bindHost, ...extra];
  if (WILDCARD.has(bindHost)) {
    for (const addresses of Object.values(networkInterfaces())) for (const a of addresses ?? []) names.push(a.address);
  }
  const allowed = new Set<string>();
  for (const name of names) {
    if (WILDCARD.has(name)) continue;
    const hostname = hostnameOf(name.trim());
    if (hostname) allowed.add(hostname);
  }
  return allowed;
}

export function hostAllowed(req: IncomingMessage, allowed: ReadonlySet<string>): boolean {
  const hostname = hostnameOf(req.headers.host ?? '');
  return hostname !== null && allowed.has(hostname);
}

/**
 * A browser names the page that sent a request in `Origin`; only this server's own pages may drive it.
 * No Origin (scripts, same-origin GETs and navigations) is left to the token to judge.
 */
export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host?.toLowerCase();
  } catch {
    return false;
  }
}
