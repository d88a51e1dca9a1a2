import { AppError } from '../../../shared/errors.js';
import type { ConnectionConfig, ConnectionTestResult, ServerConnectionConfig } from '../../../shared/schemas/datasource.js';
import type { DatasourceType, HealthCheckStatus } from '../../../shared/schemas/enums.js';
import { filesEngine } from './files/index.js';
import { mongodbEngine } from './mongodb/index.js';
import { mysqlEngine } from './mysql/index.js';
import { postgresEngine } from './postgres/index.js';
import { classify } from './probe.js';
import { sqliteEngine } from './sqlite/index.js';
import { sqlserverEngine } from './sqlserver/index.js';
import { mysqlServer } from './mysql/server.js';
import { postgresServer } from './postgres/server.js';
import type { BackupEngine, Engine, ServerEngine } from './types.js';

export type * from './types.js';

/** Every engine, by the datasource type it serves: one line each. */
const ENGINES: Record<DatasourceType, Engine | BackupEngine> = {
  postgres: postgresEngine,
  mysql: mysqlEngine,
  mariadb: mysqlEngine,
  mongodb: mongodbEngine,
  sqlserver: sqlserverEngine,
  sqlite: sqliteEngine,
  files: filesEngine,
};

const backsUp = (engine: Engine): engine is BackupEngine => 'dump' in engine;

/** The engine that backs up and restores a datasource type, or a clear refusal for one this version only watches. */
export function backupEngineFor(type: DatasourceType): BackupEngine {
  const engine = ENGINES[type];
  if (!backsUp(engine)) {
    throw new AppError(
      'unsupported',
      `${engine.label} backups are not supported yet: this version can test the connection and watch its health, but cannot dump it.`,
    );
  }
  return engine;
}

/** What backs up a whole server of this type ("Every database on this server"), or a clear refusal. */
export function serverEngineFor(type: DatasourceType): ServerEngine {
  if (type === 'postgres') return postgresServer;
  if (type === 'mysql' || type === 'mariadb') return mysqlServer;
  throw new AppError('unsupported', `Only PostgreSQL and MySQL/MariaDB datasources back up every database of a server`);
}

/** A backup restores into a datasource the same engine serves (MySQL and MariaDB read each other's dumps). */
export const sameEngine = (a: DatasourceType, b: DatasourceType): boolean => ENGINES[a] === ENGINES[b];

/** Connect, run the smallest query, read the server's version: what "Test connection" and the health checks do. */
export async function testConnection(type: DatasourceType, config: ConnectionConfig, options: { timeoutMs?: number } = {}): Promise<ConnectionTestResult> {
  const ms = options.timeoutMs ?? 10_000;
  const server = config as ServerConnectionConfig;
  const started = performance.now();
  try {
    const probe = await ENGINES[type].probe(config, ms);
    const latency = Math.round(performance.now() - started);
    return { status: 'ok', ok: true, latency_ms: latency, message: probe.message ?? `Connected in ${latency} ms`, metadata: probe.metadata };
  } catch (e) {
    const preset = (e as { status?: HealthCheckStatus }).status;
    const { status, message } = preset ? { status: preset, message: (e as Error).message } : classify(e, `${server.host}:${server.port}`, server.username);
    return { status, ok: false, latency_ms: null, message, metadata: {} };
  }
}
