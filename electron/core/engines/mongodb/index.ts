import type { ConnectionConfig } from '../../../../shared/schemas/datasource.js';
import { withTimeout } from '../probe.js';
import type { Engine } from '../types.js';

/** Watched and tested; backups need mongodump, which comes in a later release. */
export const mongodbEngine: Engine = {
  label: 'MongoDB',
  format: 'archive',

  async probe(config, ms) {
    const c = config as ConnectionConfig<'mongodb'>;
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
  },
};
