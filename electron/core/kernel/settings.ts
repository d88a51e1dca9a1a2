import { SETTING_KEYS, SETTINGS, settings, type SettingKey, type Settings } from '../../../shared/schemas/settings.js';

/** A connection or a transaction's manager: both answer raw SQL. */
interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/** Reads every setting, each falling back to its default; the queue, the runners and the services read through this. */
export async function readSettings(db: Queryable): Promise<Settings> {
  const rows = (await db.query('SELECT key, value FROM system_settings')) as { key: string; value: unknown }[];
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

/** Raw SQL because a JSON `null` (e.g. no webhook) must be stored as jsonb 'null', not SQL NULL. */
export async function writeSetting(db: Queryable, key: SettingKey, value: unknown, options: { keepExisting?: boolean } = {}): Promise<void> {
  await db.query(
    `INSERT INTO system_settings (key, value, description) VALUES ($1, $2::jsonb, $3)
     ON CONFLICT (key) DO ${options.keepExisting ? 'NOTHING' : 'UPDATE SET value = EXCLUDED.value, updated_at = NOW()'}`,
    [key, JSON.stringify(value), SETTINGS[key].description],
  );
}

/** The seed's default rows, so the table shows every key from the first start. */
export async function seedSettings(db: Queryable): Promise<void> {
  for (const key of SETTING_KEYS) await writeSetting(db, key, SETTINGS[key].default, { keepExisting: true });
}

/** Where Settings say the client tools live (null: search PATH and the usual folders). */
export function toolDirs(s: Settings): { postgres: string | null; mysql: string | null; mongodb: string | null } {
  return { postgres: s['tools.postgres_bin_dir'], mysql: s['tools.mysql_bin_dir'], mongodb: s['tools.mongodb_bin_dir'] };
}
