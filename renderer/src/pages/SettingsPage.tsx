import { useMemo, useState, type FormEvent } from 'react';
import { SETTINGS, settingsUpdate, type SettingKey, type Settings } from '../../../shared/schemas/settings.js';
import { api, ApiError } from '../api.js';
import { Checkbox, TextField } from '../components/fields.js';
import { Button, Card, ErrorBanner, KeyValue, Loading, PageHeader } from '../components/ui.js';
import { optionalNumber, useValidation, type Validation } from '../forms.js';
import { toast, useStore } from '../store.js';

type Smtp = Settings['notifications.email_smtp_config'];
const SMTP_KEY = 'notifications.email_smtp_config';

/** Every value as the form edits it: text for inputs, booleans for checkboxes. */
type Draft = Record<Exclude<SettingKey, typeof SMTP_KEY>, string | boolean> & { [SMTP_KEY]: Record<keyof Smtp, string | boolean> };

const GROUPS: { title: string; description: string; keys: SettingKey[] }[] = [
  {
    title: 'Notifications',
    description: 'Where alerts go besides the in-app inbox: failed backups, lost connections, full storages.',
    keys: ['notifications.email_enabled', 'notifications.email_smtp_config', 'notifications.webhook_url', 'notifications.reminder_cooldown_hours'],
  },
  {
    title: 'System',
    description: 'How the scheduler and the health checks behave.',
    keys: [
      'system.max_concurrent_backups',
      'system.temp_directory',
      'system.health_check_interval_ms',
      'system.health_latency_warning_ms',
      'system.scheduler_interval_ms',
    ],
  },
  {
    title: 'Client tools',
    description: 'Backups use the database’s own dump tools. Leave empty to find them on PATH and in the usual folders.',
    keys: ['tools.postgres_bin_dir', 'tools.mysql_bin_dir', 'tools.mongodb_bin_dir'],
  },
];

const NUMBER_KEYS = new Set<SettingKey>([
  'system.max_concurrent_backups',
  'system.health_check_interval_ms',
  'system.health_latency_warning_ms',
  'system.scheduler_interval_ms',
  'notifications.reminder_cooldown_hours',
]);
const NULLABLE_KEYS = new Set<SettingKey>([
  'notifications.webhook_url',
  'system.temp_directory',
  'tools.postgres_bin_dir',
  'tools.mysql_bin_dir',
  'tools.mongodb_bin_dir',
]);

function draftOf(s: Settings): Draft {
  const smtp = s[SMTP_KEY];
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    const v = s[key];
    if (key === SMTP_KEY) continue;
    out[key] = typeof v === 'boolean' ? v : v === null || v === undefined ? '' : String(v);
  }
  out[SMTP_KEY] = {
    host: smtp.host ?? '',
    port: smtp.port === undefined ? '' : String(smtp.port),
    secure: smtp.secure ?? false,
    username: smtp.username ?? '',
    from: smtp.from ?? '',
    to: smtp.to ?? '',
  };
  return out as Draft;
}

function payloadOf(d: Draft): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    if (key === SMTP_KEY) continue;
    const v = d[key];
    if (typeof v === 'boolean') out[key] = v;
    else if (NUMBER_KEYS.has(key)) out[key] = optionalNumber(v) ?? '';
    else if (NULLABLE_KEYS.has(key)) out[key] = v.trim() === '' ? null : v.trim();
    else out[key] = v;
  }
  const smtp = d[SMTP_KEY];
  const text = (v: string | boolean) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
  out[SMTP_KEY] = Object.fromEntries(
    Object.entries({
      host: text(smtp.host),
      port: optionalNumber(String(smtp.port)),
      secure: smtp.secure === true,
      username: text(smtp.username),
      from: text(smtp.from),
      to: text(smtp.to),
    }).filter(([, v]) => v !== undefined),
  );
  return out;
}

export function SettingsPage() {
  const settings = useStore((s) => s.settings);
  return (
    <>
      <PageHeader title="Settings" subtitle="Apply to the whole app; saved in the metadata database." />
      {settings.error && <ErrorBanner title="Could not load settings">{settings.error}</ErrorBanner>}
      {!settings.data && settings.loading && <Loading what="settings" />}
      {settings.data && <SettingsForm initial={settings.data} />}
      <About />
    </>
  );
}

function SettingsForm({ initial }: { initial: Settings }) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(initial));
  const payload = useMemo(() => payloadOf(draft), [draft]);
  const validation = useValidation(settingsUpdate, payload);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
  const dirty = JSON.stringify(payload) !== JSON.stringify(payloadOf(draftOf(initial)));

  const setValue = (key: SettingKey, value: string | boolean) => {
    validation.edited(key);
    setDraft((d) => ({ ...d, [key]: value }));
  };
  const setSmtp = (field: keyof Smtp, value: string | boolean) => {
    validation.edited(`${SMTP_KEY}.${field}`);
    setDraft((d) => ({ ...d, [SMTP_KEY]: { ...d[SMTP_KEY], [field]: value } }));
  };

  async function save(e: FormEvent) {
    e.preventDefault();
    validation.submit();
    setSaveError(null);
    const parsed = validation.parsed;
    if (!parsed.success) return;
    setSaving(true);
    const result = await api.call('settings.update', parsed.data);
    setSaving(false);
    if (result.ok) {
      toast('success', 'Settings saved');
      void useStore.getState().load('settings');
      return;
    }
    validation.serverError(new ApiError(result.error));
    setSaveError(result.error.message);
  }

  return (
    <form className="form" onSubmit={save} noValidate aria-label="Settings">
      {GROUPS.map((group) => (
        <Card key={group.title} title={group.title} description={group.description}>
          <div className="form-grid">
            {group.keys.map((key) =>
              key === SMTP_KEY ? (
                <SmtpFields
                  key={key}
                  values={draft[SMTP_KEY]}
                  validation={validation}
                  onChange={setSmtp}
                  disabled={draft['notifications.email_enabled'] !== true}
                />
              ) : (
                <SettingField key={key} settingKey={key} value={draft[key]} validation={validation} onChange={(v) => setValue(key, v)} />
              ),
            )}
          </div>
        </Card>
      ))}
      {saveError && <ErrorBanner title="Could not save settings">{saveError}</ErrorBanner>}
      <div className="form-actions">
        <span className="muted">{dirty ? 'You have unsaved changes.' : 'All changes saved.'}</span>
        <Button type="submit" variant="primary" busy={saving} disabled={!dirty}>
          Save settings
        </Button>
      </div>
    </form>
  );
}

const PLACEHOLDERS: Partial<Record<SettingKey, string>> = {
  'notifications.webhook_url': 'https://hooks.slack.com/services/…',
  'system.temp_directory': 'inside the data folder',
  'tools.postgres_bin_dir': '/usr/lib/postgresql/17/bin',
  'tools.mysql_bin_dir': '/usr/bin',
  'tools.mongodb_bin_dir': '/usr/bin',
};

const idOf = (key: string) => `setting-${key.replace(/[._]/g, '-')}`;

function SettingField({
  settingKey,
  value,
  validation,
  onChange,
}: {
  settingKey: SettingKey;
  value: string | boolean;
  validation: Validation;
  onChange(v: string | boolean): void;
}) {
  const { description } = SETTINGS[settingKey];
  const id = idOf(settingKey);
  if (typeof value === 'boolean') {
    return (
      <div className="form-grid__wide">
        <Checkbox id={id} label={description} hint={<code>{settingKey}</code>} checked={value} onChange={onChange} />
      </div>
    );
  }
  const isMs = settingKey.endsWith('_ms');
  const ms = Number(value);
  const hint = (
    <>
      <code>{settingKey}</code>
      {isMs && value !== '' && Number.isFinite(ms) && <> · {humanDuration(ms)}</>}
    </>
  );
  return (
    <TextField
      id={id}
      label={description}
      type={NUMBER_KEYS.has(settingKey) ? 'number' : 'text'}
      monospace={!NUMBER_KEYS.has(settingKey)}
      className={settingKey === 'notifications.webhook_url' || settingKey === 'system.temp_directory' ? 'form-grid__wide' : undefined}
      value={value}
      placeholder={PLACEHOLDERS[settingKey]}
      hint={hint}
      error={validation.errorFor(settingKey)}
      onChange={onChange}
      onBlur={() => validation.touch(settingKey)}
    />
  );
}

function SmtpFields({
  values,
  validation,
  onChange,
  disabled,
}: {
  values: Draft[typeof SMTP_KEY];
  validation: Validation;
  onChange(field: keyof Smtp, value: string | boolean): void;
  disabled: boolean;
}) {
  const text = (field: Exclude<keyof Smtp, 'secure'>, label: string, placeholder?: string) => (
    <TextField
      id={idOf(`${SMTP_KEY}.${field}`)}
      label={label}
      type={field === 'port' ? 'number' : 'text'}
      value={String(values[field])}
      placeholder={placeholder}
      error={validation.errorFor(`${SMTP_KEY}.${field}`)}
      onChange={(v) => onChange(field, v)}
      onBlur={() => validation.touch(`${SMTP_KEY}.${field}`)}
    />
  );
  return (
    <fieldset className="form-grid__wide subgroup" disabled={disabled}>
      <legend className="field__label">
        {SETTINGS[SMTP_KEY].description} <code className="muted">{SMTP_KEY}</code>
      </legend>
      {disabled && <p className="field__hint">Turn on e-mail alerts to edit the SMTP server.</p>}
      <div className="form-grid">
        {text('host', 'SMTP host', 'smtp.example.com')}
        {text('port', 'SMTP port', '587')}
        {text('username', 'SMTP username')}
        {text('from', 'From address', 'backups@example.com')}
        {text('to', 'Send alerts to', 'ops@example.com')}
        <div className="form-grid__wide">
          <Checkbox id={idOf(`${SMTP_KEY}.secure`)} label="Use TLS (SMTPS)" checked={values.secure === true} onChange={(v) => onChange('secure', v)} />
        </div>
      </div>
    </fieldset>
  );
}

function humanDuration(ms: number): string {
  const [n, unit] =
    ms < 60_000 ? [Math.round(ms / 1000), 'second'] : ms < 3_600_000 ? [+(ms / 60_000).toFixed(1), 'minute'] : [+(ms / 3_600_000).toFixed(1), 'hour'];
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

function About() {
  const info = useStore((s) => s.info);
  return (
    <Card title="About">
      {info.data ? (
        <KeyValue
          items={[
            ['Version', info.data.version],
            ['Mode', info.data.mode === 'desktop' ? 'Desktop app' : 'Headless server'],
            ['Data directory', <code key="dir">{info.data.data_dir}</code>],
            ['Metadata database', info.data.metadata_database === 'embedded' ? 'Embedded PostgreSQL' : 'External PostgreSQL (DATABASE_URL)'],
          ]}
        />
      ) : info.error ? (
        <p className="muted">{info.error}</p>
      ) : (
        <Loading what="system information" />
      )}
    </Card>
  );
}
