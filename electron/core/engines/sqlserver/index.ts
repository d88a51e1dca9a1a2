import type { ConnectionConfig } from '../../../../shared/schemas/datasource.js';
import { withTimeout } from '../probe.js';
import type { Engine } from '../types.js';

/** Watched and tested; backups (a .bacpac through SqlPackage) come in a later release. */
export const sqlserverEngine: Engine = {
  label: 'SQL Server',
  format: 'bacpac',

  async probe(config, ms) {
    const c = config as ConnectionConfig<'sqlserver'>;
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
  },
};
