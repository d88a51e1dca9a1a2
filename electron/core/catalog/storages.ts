import type { StorageConfig } from '../../../shared/schemas/storage.js';
import type { StorageRow } from '../db/entities.js';
import type { CoreContext } from '../kernel/context.js';
import { openStorage } from '../storage/index.js';
import type { Storage } from '../storage/types.js';

/** A saved storage, ready to use; an SSH host key seen for the first time is remembered (trust on first use). */
export function openSavedStorage(ctx: Pick<CoreContext, 'db' | 'secrets'>, row: StorageRow): Storage {
  const config = ctx.secrets.openConfig(row.config) as StorageConfig;
  return openStorage(row.type, config, {
    onHostKey: async (fingerprint) => {
      if (row.type !== 'ssh') return;
      row.config = { ...row.config, host_key_fingerprint: fingerprint };
      // Only this key changes: the row in hand may be older than the table.
      await ctx.db.query(`UPDATE storage_locations SET config = config || jsonb_build_object('host_key_fingerprint', $2::text) WHERE id = $1`, [
        row.id,
        fingerprint,
      ]);
    },
  });
}
