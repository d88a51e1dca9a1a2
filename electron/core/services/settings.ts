import type { SettingKey } from '../../../shared/schemas/settings.js';
import { readSettings, writeSetting } from '../kernel/settings.js';
import { reconcileSchedules } from '../scheduler/pause.js';
import type { Handlers } from './handlers.js';
import type { ServiceContext } from './context.js';

export function settingsService(ctx: ServiceContext): Handlers['settings'] {
  return {
    get: () => readSettings(ctx.db),
    async update(input) {
      const entries = Object.entries(input).filter(([, v]) => v !== undefined) as [SettingKey, unknown][];
      const wasPaused = (await readSettings(ctx.db))['schedules.paused'];
      await ctx.db.transaction(async (m) => {
        for (const [key, value] of entries) await writeSetting(m, key, value);
      });
      // Pausing clears every next run; resuming sets them from now, so what was missed meanwhile is not caught up.
      if (input['schedules.paused'] !== undefined && input['schedules.paused'] !== wasPaused) {
        await reconcileSchedules(ctx, { resumed: !input['schedules.paused'] });
        ctx.events.emit('entity.changed', { entity: 'job', id: null, action: 'updated' });
      }
      ctx.events.emit('entity.changed', { entity: 'settings', id: null, action: 'updated' });
      return readSettings(ctx.db);
    },
  };
}
