import type { HealthCheckStatus } from '../../../shared/schemas/enums.js';

/** What a connection test learns beyond "it answered": version, uptime, connections... */
export interface Probe {
  metadata: Record<string, unknown>;
  /** What a test says when it worked, in the datasource's words (default: "Connected in 12 ms"). */
  message?: string;
}

export class TimeoutError extends Error {}

/** A probe failure whose status is already known (a missing file is `unreachable`, not an `error`). */
export function probeFailure(status: HealthCheckStatus, message: string): Error & { status: HealthCheckStatus } {
  return Object.assign(new Error(message), { status });
}

/** Driver errors into the seed's health statuses, with a message that says what to do. */
export function classify(error: unknown, where: string, username?: string): { status: HealthCheckStatus; message: string } {
  const e = error as { code?: string | number; errno?: number; message?: string; number?: number; originalError?: { code?: string } };
  const code = String(e?.code ?? e?.originalError?.code ?? '');
  const msg = String(e?.message ?? error);
  if (error instanceof TimeoutError || code === 'ETIMEDOUT' || code === 'ETIMEOUT' || /timed? ?out/i.test(msg)) {
    return { status: 'timeout', message: `No answer from ${where} in time: is the server overloaded, or a firewall dropping the connection?` };
  }
  if (
    ['28P01', '28000', 'ER_ACCESS_DENIED_ERROR', 'ELOGIN'].includes(code) ||
    e?.errno === 1045 ||
    e?.code === 18 ||
    /authentication failed|access denied|login failed/i.test(msg)
  ) {
    return { status: 'auth_failed', message: `Authentication failed${username ? ` for user ${username}` : ''}: check the username and password` };
  }
  if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(msg)) {
    return { status: 'unreachable', message: `Nothing answers at ${where}: is the server running and the port right?` };
  }
  if (['ENOTFOUND', 'EAI_AGAIN'].includes(code) || /ENOTFOUND|getaddrinfo/.test(msg)) {
    return { status: 'unreachable', message: `Host not found: ${where.split(':')[0]}` };
  }
  if (['EHOSTUNREACH', 'ENETUNREACH', 'ESOCKET'].includes(code) || /EHOSTUNREACH|ENETUNREACH|ECONNRESET/.test(msg)) {
    return { status: 'unreachable', message: `Cannot reach ${where}: ${msg}` };
  }
  if (/does not support SSL|does not support secure connection|HANDSHAKE_NO_SSL_SUPPORT/i.test(`${msg} ${code}`)) {
    return { status: 'error', message: `${where} does not accept TLS: enable TLS on the server, or set the datasource's SSL mode to disable` };
  }
  if (
    /self[- ]signed certificate|unable to (get|verify) .*certificate|certificate verify failed|Hostname\/IP does not match|ERR_TLS_CERT/i.test(`${msg} ${code}`)
  ) {
    return {
      status: 'error',
      message: `The certificate of ${where} could not be verified (${msg}): paste the CA that signed it in the datasource, or check the host name it was issued for`,
    };
  }
  if (code === '3D000' || e?.errno === 1049) {
    return { status: 'error', message: msg.replace(/^Unknown database/, 'Database').replace(/"/g, '') + (e?.errno === 1049 ? ' does not exist' : '') };
  }
  return { status: 'error', message: msg };
}

/** Ends a probe that hangs: `cleanup` closes what it opened. */
export function withTimeout<T>(work: Promise<T>, ms: number, cleanup: () => void): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      cleanup();
      reject(new TimeoutError('timeout'));
    }, ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
