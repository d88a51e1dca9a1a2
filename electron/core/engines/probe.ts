import { constants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { ConnectionConfig, ConnectionTestResult, ServerConnectionConfig } from '../../../shared/schemas/datasource.js';
import type { DatasourceType, HealthCheckStatus } from '../../../shared/schemas/enums.js';

export interface TestOptions {
  /** The whole attempt, connect and query, ends by then. Default 10 s. */
  timeoutMs?: number;
}

type Probe = { metadata: Record<string, unknown> };
class TimeoutError extends Error {}

/** Driver errors into the seed's health statuses, with a message that says what to do. */
export function classify(error: unknown, where: string, username?: string): { status: HealthCheckStatus; message: string } {
  const e = error as { code?: string | number; errno?: number; message?: string; number?: number; originalError?: { code?: string } };
  const code = String(e?.code ?? e?.originalError?.code ?? '');
  const msg = String(e?.message ?? error);
  if (error instanceof TimeoutError || code === 'ETIMEDOUT' || code === 'ETIMEOUT' || /timed? ?out/i.test(msg)) {
    return { status: 'timeout', message: `No answer from ${where} in time: is the server overloaded, or a firewall dropping the connection?` };
  }
  if (['28P01', '28000', 'ER_ACCESS_DENIED_ERROR', 'ELOGIN'].includes(code) || e?.errno === 1045 || e?.code === 18 || /authentication failed|access denied|login failed/i.test(msg)) {
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
  if (code === '3D000' || e?.errno === 1049) {
    return { status: 'error', message: msg.replace(/^Unknown database/, 'Database').replace(/"/g, '') + (e?.errno === 1049 ? ' does not exist' : '') };
  }
  return { status: 'error', message: msg };
}

function withTimeout<T>(work: Promise<T>, ms: number, cleanup: () => void): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      cleanup();
      reject(new TimeoutError('timeout'));
    }, ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function postgres(c: ServerConnectionConfig, ms: number): Promise<Probe> {
  const client = new pg.Client({
    host: c.host,
    port: c.port,
    database: c.database,
    user: c.username,
    password: c.password ?? '',
    ssl: c.ssl_enabled ? { rejectUnauthorized: false } : undefined,
    connectionTimeoutMillis: ms,
    statement_timeout: ms,
  });
  client.on('error', () => undefined);
  try {
    return await withTimeout(
      (async () => {
        await client.connect();
        await client.query('SELECT 1');
        const { rows } = await client.query<{ version: string; uptime: string; connections: number }>(
          `SELECT current_setting('server_version') AS version,
                  date_trunc('second', now() - pg_postmaster_start_time())::text AS uptime,
                  (SELECT count(*)::int FROM pg_stat_activity) AS connections`,
        );
        const r = rows[0]!;
        return { metadata: { database_version: `PostgreSQL ${r.version.split(' ')[0]}`, server_uptime: r.uptime, active_connections: r.connections } };
      })(),
      ms,
      () => void client.end().catch(() => undefined),
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function mysqlLike(c: ServerConnectionConfig, ms: number): Promise<Probe> {
  let conn: mysql.Connection | undefined;
  const work = (async () => {
    conn = await mysql.createConnection({
      host: c.host,
      port: c.port,
      database: c.database,
      user: c.username,
      password: c.password ?? '',
      connectTimeout: ms,
      ssl: c.ssl_enabled ? { rejectUnauthorized: false } : undefined,
    });
    await conn.query('SELECT 1');
    const [rows] = (await conn.query(
      "SELECT VERSION() AS version, (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'UPTIME') AS uptime, (SELECT COUNT(*) FROM information_schema.PROCESSLIST) AS connections",
    )) as unknown as [{ version: string; uptime: string; connections: number }[]];
    const r = rows[0]!;
    const product = /mariadb/i.test(r.version) ? 'MariaDB' : 'MySQL';
    return {
      metadata: {
        database_version: `${product} ${r.version.split('-')[0]}`,
        server_uptime: r.uptime ? `${Math.round(Number(r.uptime) / 3600)} hours` : undefined,
        active_connections: Number(r.connections),
      },
    };
  })();
  try {
    return await withTimeout(work, ms, () => conn?.destroy());
  } finally {
    conn?.destroy();
  }
}

async function mongodb(c: ServerConnectionConfig & { auth_database?: string }, ms: number): Promise<Probe> {
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(`mongodb://${c.host}:${c.port}/${encodeURIComponent(c.database)}`, {
    auth: c.username ? { username: c.username, password: c.password ?? '' } : undefined,
    authSource: c.auth_database ?? 'admin',
    tls: c.ssl_enabled,
    serverSelectionTimeoutMS: ms,
    connectTimeoutMS: ms,
  });
  try {
    return await withTimeout(
      (async () => {
        await client.connect();
        await client.db('admin').command({ ping: 1 });
        const info = await client.db('admin').command({ buildInfo: 1 });
        return { metadata: { database_version: `MongoDB ${info.version}` } };
      })(),
      ms + 1000,
      () => void client.close(true).catch(() => undefined),
    );
  } finally {
    await client.close(true).catch(() => undefined);
  }
}

async function sqlserver(c: ServerConnectionConfig & { trust_server_certificate?: boolean }, ms: number): Promise<Probe> {
  const mssql = (await import('mssql')).default;
  const pool = new mssql.ConnectionPool({
    server: c.host,
    port: c.port,
    database: c.database,
    user: c.username,
    password: c.password ?? '',
    connectionTimeout: ms,
    requestTimeout: ms,
    options: { encrypt: c.ssl_enabled, trustServerCertificate: c.trust_server_certificate ?? false },
  });
  pool.on('error', () => undefined);
  try {
    return await withTimeout(
      (async () => {
        await pool.connect();
        const r = await pool.request().query<{ version: string }>('SELECT @@VERSION AS version');
        return { metadata: { database_version: String(r.recordset[0]?.version ?? '').split('\n')[0] } };
      })(),
      ms + 1000,
      () => void pool.close().catch(() => undefined),
    );
  } finally {
    await pool.close().catch(() => undefined);
  }
}

async function sqlite(c: ConnectionConfig<'sqlite'>): Promise<Probe> {
  let db: Database.Database;
  try {
    db = new Database(c.file_path, { readonly: true, fileMustExist: true });
  } catch (e) {
    const err = e as { code?: string; message: string };
    if (err.code === 'SQLITE_CANTOPEN') throw Object.assign(new Error(`File not found or not readable: ${c.file_path}`), { status: 'unreachable' });
    throw e;
  }
  try {
    db.pragma('schema_version');
    const version = db.prepare('SELECT sqlite_version() AS v').get() as { v: string };
    const tables = db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number };
    return { metadata: { database_version: `SQLite ${version.v}`, tables: tables.n } };
  } catch (e) {
    const err = e as { code?: string; message: string };
    if (err.code === 'SQLITE_NOTADB') throw new Error(`${c.file_path} is not an SQLite database`);
    throw e;
  } finally {
    db.close();
  }
}

async function files(c: ConnectionConfig<'files'>): Promise<Probe> {
  const unreachable = (message: string) => Object.assign(new Error(message), { status: 'unreachable' });
  let info;
  try {
    info = await stat(c.source_path);
  } catch {
    throw unreachable(`Folder not found: ${c.source_path}`);
  }
  if (!info.isDirectory()) throw unreachable(`${c.source_path} is a file, not a folder`);
  try {
    await access(c.source_path, constants.R_OK | constants.X_OK);
    return { metadata: { entries: (await readdir(c.source_path)).length } };
  } catch {
    throw Object.assign(new Error(`Cannot read the folder ${c.source_path}: check its permissions`), { status: 'error' });
  }
}

/** Connect, run the smallest query, read the server's version: what "Test connection" and the health checks do. */
export async function testConnection(type: DatasourceType, config: ConnectionConfig, options: TestOptions = {}): Promise<ConnectionTestResult> {
  const ms = options.timeoutMs ?? 10_000;
  const server = config as ServerConnectionConfig;
  const where = `${server.host}:${server.port}`;
  const started = performance.now();
  try {
    let probe: Probe;
    switch (type) {
      case 'postgres':
        probe = await postgres(server, ms);
        break;
      case 'mysql':
      case 'mariadb':
        probe = await mysqlLike(server, ms);
        break;
      case 'mongodb':
        probe = await mongodb(server, ms);
        break;
      case 'sqlserver':
        probe = await sqlserver(server, ms);
        break;
      case 'sqlite':
        probe = await sqlite(config as ConnectionConfig<'sqlite'>);
        break;
      case 'files':
        probe = await files(config as ConnectionConfig<'files'>);
        break;
    }
    const latency = Math.round(performance.now() - started);
    return { status: 'ok', ok: true, latency_ms: latency, message: `Connected in ${latency} ms`, metadata: probe.metadata };
  } catch (e) {
    const preset = (e as { status?: HealthCheckStatus }).status;
    const { status, message } = preset ? { status: preset, message: (e as Error).message } : classify(e, where, server.username);
    return { status, ok: false, latency_ms: null, message, metadata: {} };
  }
}
