import type { SettingKey } from '../../../shared/schemas/settings.js';
import { readSettings, writeSetting } from '../kernel/settings.js';
import type { Handlers } from './handlers.js';
import type { ServiceContext } from './context.js';

export function settingsService(ctx: ServiceContext): Handlers['settings'] {
  return {
    get: () => readSettings(ctx.db),
    async update(input) {
      const entries = Object.entries(input).filter(([, v]) => v !== undefined) as [SettingKey, unknown][];
      await ctx.db.transaction(async (m) => {
        for (const [key, value] of entries) await writeSetting(m, key, value);
      });
      ctx.events.emit('entity.changed', { entity: 'settings', id: null, action: 'updated' });
      return readSettings(ctx.db);
    },
  };
}
