import { maskSecrets } from '../../../shared/secrets.js';
import { smtpConfig, type SettingKey, type Settings, type SmtpConfig } from '../../../shared/schemas/settings.js';
import { readSettings, writeSetting } from '../kernel/settings.js';
import { reconcileSchedules } from '../scheduler/pause.js';
import type { Handlers } from './handlers.js';
import type { ServiceContext } from './context.js';
import { resolveConfig } from './validate.js';

export const SMTP_KEY = 'notifications.email_smtp_config';

/** Settings as every answer carries them: the SMTP password only as `password_set`. */
const masked = (s: Settings): Settings => {
  const smtp = s[SMTP_KEY];
  return { ...s, [SMTP_KEY]: { ...maskSecrets(smtp), password_set: typeof smtp.password === 'string' && smtp.password !== '' } };
};

/**
 * The SMTP server from a form, completed with the saved password when the form leaves it empty, as
 * long as host, port and username stay the same (as for datasources); then checked.
 */
export function resolveSmtp(ctx: ServiceContext, incoming: SmtpConfig, savedSealed: SmtpConfig) {
  const { password_set: _shown, ...typed } = incoming;
  return resolveConfig(ctx.secrets, smtpConfig, 'smtp', typed, savedSealed, SMTP_KEY);
}

export function settingsService(ctx: ServiceContext): Handlers['settings'] {
  return {
    get: async () => masked(await readSettings(ctx.db)),
    async update(input) {
      const entries = Object.entries(input).filter(([, v]) => v !== undefined) as [SettingKey, unknown][];
      const before = await readSettings(ctx.db);
      const wasPaused = before['schedules.paused'];
      const smtp = input[SMTP_KEY];
      if (smtp) {
        const { password_set: _shown, ...config } = resolveSmtp(ctx, smtp, before[SMTP_KEY]).config;
        entries.splice(
          entries.findIndex(([key]) => key === SMTP_KEY),
          1,
          [SMTP_KEY, ctx.secrets.sealConfig(config)],
        );
      }
      await ctx.db.transaction(async (m) => {
        for (const [key, value] of entries) await writeSetting(m, key, value);
      });
      // Pausing clears every next run; resuming sets them from now, so what was missed meanwhile is not caught up.
      if (input['schedules.paused'] !== undefined && input['schedules.paused'] !== wasPaused) {
        await reconcileSchedules(ctx, { resumed: !input['schedules.paused'] });
        ctx.events.emit('entity.changed', { entity: 'job', id: null, action: 'updated' });
      }
      ctx.events.emit('entity.changed', { entity: 'settings', id: null, action: 'updated' });
      return masked(await readSettings(ctx.db));
    },
  };
}
