import { SETTING_KEYS, SETTINGS, settings, type SettingKey, type Settings } from '../../../shared/schemas/settings.js';
import { SystemSettings } from '../db/entities.js';
import type { Handlers } from '../dispatch.js';
import type { ServiceContext } from './context.js';

/** Reads every setting, each falling back to its default; the runner, health worker etc. read through this. */
export async function readSettings(ctx: Pick<ServiceContext, 'db'>): Promise<Settings> {
  const rows = await ctx.db.getRepository(SystemSettings).find();
  const stored = Object.fromEntries(rows.filter((r) => SETTING_KEYS.includes(r.key as SettingKey)).map((r) => [r.key, r.value]));
  const parsed = settings.safeParse(stored);
  if (parsed.success) return parsed.data;
  // A value written by hand that no longer fits its schema falls back to its default, key by key.
  return Object.fromEntries(
    SETTING_KEYS.map((k) => {
      const one = SETTINGS[k].schema.safeParse(stored[k]);
      return [k, one.success ? one.data : SETTINGS[k].default];
    }),
  ) as Settings;
}

/** The seed's default rows, so the table shows every key from the first start. */
/** Where Settings say the client tools live (null: search PATH and the usual folders). */
export function toolDirs(s: Settings): { postgres: string | null; mysql: string | null; mongodb: string | null } {
  return { postgres: s['tools.postgres_bin_dir'], mysql: s['tools.mysql_bin_dir'], mongodb: s['tools.mongodb_bin_dir'] };
}

export async function seedSettings(ctx: Pick<ServiceContext, 'db'>): Promise<void> {
  for (const key of SETTING_KEYS) await writeSetting(ctx.db, key, SETTINGS[key].default, { keepExisting: true });
}

/** Raw SQL because a JSON `null` (e.g. no webhook) must be stored as jsonb 'null', not SQL NULL. */
async function writeSetting(db: { query(sql: string, params: unknown[]): Promise<unknown> }, key: SettingKey, value: unknown, options: { keepExisting?: boolean } = {}) {
  await db.query(
    `INSERT INTO system_settings (key, value, description) VALUES ($1, $2::jsonb, $3)
     ON CONFLICT (key) DO ${options.keepExisting ? 'NOTHING' : 'UPDATE SET value = EXCLUDED.value, updated_at = NOW()'}`,
    [key, JSON.stringify(value), SETTINGS[key].description],
  );
}

export function settingsService(ctx: ServiceContext): Handlers['settings'] {
  return {
    get: () => readSettings(ctx),
    async update(input) {
      const entries = Object.entries(input).filter(([, v]) => v !== undefined) as [SettingKey, unknown][];
      await ctx.db.transaction(async (m) => {
        for (const [key, value] of entries) await writeSetting(m, key, value);
      });
      ctx.events.emit('entity.changed', { entity: 'settings', id: null, action: 'updated' });
      return readSettings(ctx);
    },
  };
}
