import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';

/** The browser keeps the token in this cookie after opening the printed `?token=` address. */
const COOKIE = 'dg_token';
const COOKIE_DAYS = 30;
/** Shorter than this, a token given in DG_API_TOKEN could be guessed. */
const MIN_LENGTH = 24;

export interface ApiToken {
  value: string;
  /** Where it came from, said at start: the file in the data directory, or DG_API_TOKEN. */
  source: string;
}

/**
 * The API token: DG_API_TOKEN when set, else `api-token` in the data directory, written (0600) at first
 * start. Even on loopback a token is needed: any local user, and any web page the browser opens, can
 * reach 127.0.0.1.
 */
export function loadApiToken(dataDir: string, fromEnv = process.env.DG_API_TOKEN): ApiToken {
  if (fromEnv !== undefined && fromEnv !== '') {
    const value = fromEnv.trim();
    // It travels in a header, a cookie and a URL: letters, digits and - _ . ~ only keep it whole in all three.
    if (value.length < MIN_LENGTH || !/^[\w.~-]+$/.test(value)) {
      throw new Error(`DG_API_TOKEN must be at least ${MIN_LENGTH} letters, digits, '-', '_', '.' or '~' (e.g. openssl rand -hex 32).`);
    }
    return { value, source: 'DG_API_TOKEN' };
  }
  const file = path.join(dataDir, 'api-token');
  try {
    // `wx`: never through a file or symlink someone else put there.
    writeFileSync(file, randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  // A copy restored with looser permissions is made private again.
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  const value = readFileSync(file, 'utf8').trim();
  if (value.length < MIN_LENGTH) throw new Error(`${file} holds no usable token: delete it and DataGuardian writes a new one at start.`);
  return { value, source: file };
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant time: hashing first gives both sides the same length, so nothing about the token leaks through timing. */
export function sameToken(given: string | undefined, token: string): boolean {
  return given !== undefined && timingSafeEqual(digest(given), digest(token));
}

export function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The token a request carries: `Authorization: Bearer` (scripts) or the cookie (the browser). */
export function tokenOf(req: IncomingMessage): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
  return bearer ?? cookieValue(req, COOKIE);
}

/** HttpOnly: no script reads it; SameSite=Strict: no other site's page sends it; Secure under TLS. */
export function tokenCookie(token: string, secure: boolean): string {
  return `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${COOKIE_DAYS * 86400}${secure ? '; Secure' : ''}`;
}
