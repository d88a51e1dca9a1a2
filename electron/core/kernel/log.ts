import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import log from 'electron-log/node';
import { isSecretField } from '../../../shared/secrets.js';

/**
 * The app's one logger (electron-log, node flavour: core never imports electron).
 * Every message passes through `redact`, so a config object logged by mistake carries no secret.
 */
const REDACTED = '[redacted]';
/** Besides the config secrets: age keys pasted for one call, the recovery key answered once, a configuration kit. */
const ALSO_SECRET = new Set(['identity', 'identities', 'recovery_identity', 'kit']);
const secretKey = (k: string) => isSecretField(k) || ALSO_SECRET.has(k);

/** An age identity wherever it lands in a message: none should ever reach one, and if one does it is not kept. */
const AGE_IDENTITY = /AGE-SECRET-KEY-(PQ-)?1[0-9A-Z]+/gi;

export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(AGE_IDENTITY, REDACTED);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    const message = value.message.replace(AGE_IDENTITY, REDACTED);
    if (message === value.message) return value;
    const copy = new Error(message);
    copy.stack = value.stack?.replace(AGE_IDENTITY, REDACTED);
    return copy;
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = secretKey(k) && v ? REDACTED : redact(v, depth + 1);
  return out;
}

log.hooks.push((message) => ({ ...message, data: message.data.map((d) => redact(d)) }));
log.transports.file.level = 'info';
log.transports.console.level = process.env.DG_LOG_LEVEL === 'debug' ? 'debug' : process.env.NODE_ENV === 'test' ? 'warn' : 'info';

/**
 * Points the log file into the app's data directory. Logs name datasources, hosts and folders:
 * only the user running the app may read them (folder 0700, files 0600), whatever the umask.
 */
export function setLogDirectory(dir: string): void {
  const folder = path.join(dir, 'logs');
  const file = path.join(folder, 'dataguardian.log');
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  // mkdir leaves an existing folder (or one made before this version) as it was.
  chmodSync(folder, 0o700);
  if (existsSync(file)) chmodSync(file, 0o600);
  log.transports.file.writeOptions = { ...log.transports.file.writeOptions, mode: 0o600 };
  log.transports.file.resolvePathFn = () => file;
}

export const logger = log.scope('core');
export const scoped = (name: string) => log.scope(name);
