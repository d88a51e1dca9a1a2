import pg from 'pg';
import type { ServerConnectionConfig } from '../../../../shared/schemas/datasource.js';
import { withConnection } from '../connection.js';
import { secretFile } from '../process.js';
import type { EngineOptions } from '../types.js';

const escapePass = (v: string) => v.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** `timeoutMs` bounds the connect and, when given, every statement (a health probe must not hang). */
export function pgClient(c: ServerConnectionConfig, database = c.database, timeoutMs?: number): pg.Client {
  const client = new pg.Client({
    host: c.host,
    port: c.port,
    database,
    user: c.username,
    password: c.password ?? '',
    ssl: c.ssl_enabled ? { rejectUnauthorized: false } : undefined,
    connectionTimeoutMillis: timeoutMs ?? 15_000,
    ...(timeoutMs ? { statement_timeout: timeoutMs } : {}),
  });
  client.on('error', () => undefined);
  return client;
}

/** Credentials reach libpq through a 0600 PGPASSFILE, never argv. */
export function pgEnv(c: ServerConnectionConfig, options: Pick<EngineOptions, 'tempDir'>) {
  const pass = secretFile(options.tempDir, 'pgpass', `${c.host}:${c.port}:*:${c.username}:${escapePass(c.password ?? '')}\n`);
  return {
    env: { PGPASSFILE: pass.path, PGSSLMODE: c.ssl_enabled ? 'require' : 'prefer', PGCONNECT_TIMEOUT: '15' },
    remove: pass.remove,
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
