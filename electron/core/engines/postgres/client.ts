import pg from 'pg';
import type { ServerConnectionConfig } from '../../../../shared/schemas/datasource.js';
import { withConnection } from '../connection.js';
import { secretFile } from '../process.js';
import { caFile, sslModeOf, verifies } from '../tls.js';
import type { EngineOptions } from '../types.js';

const escapePass = (v: string) => v.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The driver's TLS options for the datasource's SSL mode, as libpq reads the same mode. */
function pgSsl(c: ServerConnectionConfig): pg.ClientConfig['ssl'] {
  const mode = sslModeOf(c);
  if (mode === 'disable') return false;
  if (mode === 'require') return { rejectUnauthorized: false };
  const ca = c.ssl_ca || undefined;
  // verify-ca: the chain must lead to the CA, whatever name the certificate carries.
  return mode === 'verify-ca' ? { rejectUnauthorized: true, ca, checkServerIdentity: () => undefined } : { rejectUnauthorized: true, ca };
}

/** `timeoutMs` bounds the connect and, when given, every statement (a health probe must not hang). */
export function pgClient(c: ServerConnectionConfig, database = c.database, timeoutMs?: number): pg.Client {
  const client = new pg.Client({
    host: c.host,
    port: c.port,
    database,
    user: c.username,
    password: c.password ?? '',
    ssl: pgSsl(c),
    connectionTimeoutMillis: timeoutMs ?? 15_000,
    ...(timeoutMs ? { statement_timeout: timeoutMs } : {}),
  });
  client.on('error', () => undefined);
  return client;
}

/** A libpq connection string value: quoted, so a database named `x host=evil` stays one name. */
const conninfoValue = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * How a libpq tool reaches the datasource without anything on argv that it could read as an option
 * or a connection string: host, port and user in the environment, the password in a 0600 PGPASSFILE,
 * the database as `--dbname=dbname='…'`, the CA (verify modes) in a file in the private temp folder.
 */
export function pgEnv(c: ServerConnectionConfig, options: Pick<EngineOptions, 'tempDir'>) {
  const mode = sslModeOf(c);
  const pass = secretFile(options.tempDir, 'pgpass', `${c.host}:${c.port}:*:${c.username}:${escapePass(c.password ?? '')}\n`);
  const ca = verifies(mode) ? caFile(c, options.tempDir) : null;
  return {
    env: {
      PGHOST: c.host,
      PGPORT: String(c.port),
      PGUSER: c.username,
      PGPASSFILE: pass.path,
      PGSSLMODE: mode,
      ...(ca ? { PGSSLROOTCERT: ca.path } : {}),
      PGCONNECT_TIMEOUT: '15',
    },
    dbname: (database = c.database) => `--dbname=dbname=${conninfoValue(database)}`,
    remove: () => {
      pass.remove();
      ca?.remove();
    },
  };
}

/** Runs `work` on a connection to `database`; abort ends the connection, which stops a running query. */
export function withClient<T>(c: ServerConnectionConfig, database: string, signal: AbortSignal, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const open = async () => {
    const client = pgClient(c, database);
    await client.connect();
    return client;
  };
  return withConnection(signal, open, (client) => client.end(), work);
}
