import { useMemo, useState, type FormEvent, type ReactNode } from 'react';
import type { InputOf } from '../../../shared/contract.js';
import { NOTIFICATION_SEVERITIES, type NotificationSink } from '../../../shared/schemas/enums.js';
import type { NotificationTestResult } from '../../../shared/schemas/notification.js';
import { SETTINGS, settingsUpdate, type SettingKey, type Settings } from '../../../shared/schemas/settings.js';
import { secretsToRetype } from '../../../shared/secrets.js';
import { api, ApiError } from '../api.js';
import { Checkbox, SelectField, TextField } from '../components/fields.js';
import { Button, Card, ErrorBanner, KeyValue, Loading, PageHeader, StatusBadge } from '../components/ui.js';
import { optionalNumber, useValidation, type Validation } from '../forms.js';
import { toast, useStore } from '../store.js';
import { EncryptionCard } from './encryption/EncryptionCard.js';

const SMTP_KEY = 'notifications.email_smtp_config';
/** What the form edits of the SMTP server; the saved password only shows as "saved". */
type SmtpField = 'host' | 'port' | 'secure' | 'username' | 'password' | 'from' | 'to';

/** Every value as the form edits it: text for inputs and selects, booleans for checkboxes. */
type Draft = Record<Exclude<SettingKey, typeof SMTP_KEY>, string | boolean> & { [SMTP_KEY]: Record<SmtpField, string | boolean> };

const GROUPS: { title: string; description: string; keys: Exclude<SettingKey, typeof SMTP_KEY>[] }[] = [
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
  'notifications.app_url',
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
    password: '',
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
  out[SMTP_KEY] = smtpPayload(smtp);
  return out;
}

/** The SMTP server as sent: an empty password is left out, which keeps the saved one (while host, port and user stay). */
function smtpPayload(smtp: Draft[typeof SMTP_KEY]): Record<string, unknown> {
  const text = (v: string | boolean) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
  return Object.fromEntries(
    Object.entries({
      host: text(smtp.host),
      port: optionalNumber(String(smtp.port)),
      secure: smtp.secure === true,
      username: text(smtp.username),
      password: typeof smtp.password === 'string' && smtp.password !== '' ? smtp.password : undefined,
      from: text(smtp.from),
      to: text(smtp.to),
    }).filter(([, v]) => v !== undefined),
  );
}

export function SettingsPage() {
  const settings = useStore((s) => s.settings);
  return (
    <>
      <PageHeader title="Settings" subtitle="Apply to the whole app; saved in the metadata database." />
      {settings.error && <ErrorBanner title="Could not load settings">{settings.error}</ErrorBanner>}
      {!settings.data && settings.loading && <Loading what="settings" />}
      {settings.data && <SettingsForm initial={settings.data} />}
      <EncryptionCard />
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
  const setSmtp = (field: SmtpField, value: string | boolean) => {
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
      // The password is saved (sealed): the field empties and shows it as saved.
      setDraft((d) => ({ ...d, [SMTP_KEY]: { ...d[SMTP_KEY], password: '' } }));
      void useStore.getState().load('settings');
      return;
    }
    validation.serverError(new ApiError(result.error));
    setSaveError(result.error.message);
  }

  return (
    <form className="form" onSubmit={save} noValidate aria-label="Settings">
      <NotificationsCard draft={draft} saved={initial} validation={validation} setValue={setValue} setSmtp={setSmtp} />
      {GROUPS.map((group) => (
        <Card key={group.title} title={group.title} description={group.description}>
          <div className="form-grid">
            {group.keys.map((key) => (
              <SettingField key={key} settingKey={key} value={draft[key]} validation={validation} onChange={(v) => setValue(key, v)} />
            ))}
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
  'notifications.app_url': 'https://nas.office.lan:8080',
  'system.temp_directory': 'inside the data folder',
  'tools.postgres_bin_dir': '/usr/lib/postgresql/17/bin',
  'tools.mysql_bin_dir': '/usr/bin',
  'tools.mongodb_bin_dir': '/usr/bin',
};

const WIDE_KEYS = new Set<SettingKey>(['notifications.webhook_url', 'notifications.app_url', 'system.temp_directory']);

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
      className={WIDE_KEYS.has(settingKey) ? 'form-grid__wide' : undefined}
      value={value}
      placeholder={PLACEHOLDERS[settingKey]}
      hint={hint}
      error={validation.errorFor(settingKey)}
      onChange={onChange}
      onBlur={() => validation.touch(settingKey)}
    />
  );
}

const SEVERITY_OPTIONS = NOTIFICATION_SEVERITIES.map((v) => ({
  value: v,
  label: { info: 'Everything (info and up)', warning: 'Warnings and critical', critical: 'Critical only' }[v],
}));
const FORMAT_OPTIONS = [
  { value: 'json', label: 'Plain JSON' },
  { value: 'slack', label: 'Slack (incoming webhook)' },
  { value: 'discord', label: 'Discord (webhook)' },
];

/**
 * Where alerts go besides the inbox: each sink with its severity floor, its settings and a "Send test"
 * that tries the values as they are in the form (saved or not) and shows the sink's own answer.
 */
function NotificationsCard({
  draft,
  saved,
  validation,
  setValue,
  setSmtp,
}: {
  draft: Draft;
  saved: Settings;
  validation: Validation;
  setValue(key: SettingKey, value: string | boolean): void;
  setSmtp(field: SmtpField, value: string | boolean): void;
}) {
  const mode = useStore((s) => s.info.data?.mode);
  const field = (key: Exclude<SettingKey, typeof SMTP_KEY>) => (
    <SettingField settingKey={key} value={draft[key]} validation={validation} onChange={(v) => setValue(key, v)} />
  );
  const floor = (key: 'notifications.desktop_min_severity' | 'notifications.webhook_min_severity' | 'notifications.email_min_severity') => (
    <SelectField
      id={idOf(key)}
      label={SETTINGS[key].description}
      value={String(draft[key])}
      options={SEVERITY_OPTIONS}
      hint={<code>{key}</code>}
      onChange={(v) => setValue(key, v)}
    />
  );
  const webhookUrl = String(draft['notifications.webhook_url']).trim();
  const emailOff = draft['notifications.email_enabled'] !== true;
  return (
    <Card title="Notifications" description="Every alert is kept in the inbox. Failed backups, lost connections and full storages can also reach you here.">
      <div className="form-grid">
        <fieldset className="form-grid__wide subgroup">
          <legend className="field__label">Desktop</legend>
          {mode === 'headless' && <p className="field__hint">Desktop notifications appear when DataGuardian runs as the desktop app.</p>}
          <div className="form-grid">{floor('notifications.desktop_min_severity')}</div>
          <SendTest sink="desktop" label="desktop notification" disabled={mode === 'headless'} input={() => ({ sink: 'desktop' })} />
        </fieldset>

        <fieldset className="form-grid__wide subgroup">
          <legend className="field__label">Webhook</legend>
          <div className="form-grid">
            {field('notifications.webhook_url')}
            <SelectField
              id={idOf('notifications.webhook_format')}
              label={SETTINGS['notifications.webhook_format'].description}
              value={String(draft['notifications.webhook_format'])}
              options={FORMAT_OPTIONS}
              hint={<code>notifications.webhook_format</code>}
              onChange={(v) => setValue('notifications.webhook_format', v)}
            />
            {floor('notifications.webhook_min_severity')}
          </div>
          <SendTest
            sink="webhook"
            label="webhook"
            disabled={webhookUrl === '' || validation.errorFor('notifications.webhook_url') !== undefined}
            input={() => ({
              sink: 'webhook',
              webhook_url: webhookUrl,
              webhook_format: draft['notifications.webhook_format'] as 'json' | 'slack' | 'discord',
            })}
          />
        </fieldset>

        <fieldset className="form-grid__wide subgroup">
          <legend className="field__label">E-mail</legend>
          {field('notifications.email_enabled')}
          <SmtpFields values={draft[SMTP_KEY]} saved={saved[SMTP_KEY]} validation={validation} onChange={setSmtp} disabled={emailOff} />
          <div className="form-grid">{floor('notifications.email_min_severity')}</div>
          <SendTest sink="email" label="e-mail" input={() => ({ sink: 'email', smtp: smtpPayload(draft[SMTP_KEY]) })} />
        </fieldset>

        {field('notifications.app_url')}
        {field('notifications.reminder_cooldown_hours')}
      </div>
    </Card>
  );
}

/** "Send test" of one sink, and its answer beside the button. */
function SendTest({ sink, label, input, disabled }: { sink: NotificationSink; label: string; input(): InputOf<'notifications.test'>; disabled?: boolean }) {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<NotificationTestResult | null>(null);
  async function send() {
    setBusy(true);
    setResult(null);
    const answer = await api.call('notifications.test', input());
    setBusy(false);
    setResult(answer.ok ? answer.data : { ok: false, message: answer.error.message });
  }
  return (
    <div className="test-row">
      <Button size="sm" onClick={send} busy={busy} disabled={disabled} ariaLabel={`Send test ${label}`}>
        Send test
      </Button>
      {result ? (
        <TestAnswer ok={result.ok} label={`${sink} test result`}>
          {result.message}
        </TestAnswer>
      ) : (
        <span className="muted">Sends a test {label} now with the values above, saved or not.</span>
      )}
    </div>
  );
}

function TestAnswer({ ok, label, children }: { ok: boolean; label: string; children: ReactNode }) {
  return (
    <div className={`test-result ${ok ? 'test-result--ok' : 'test-result--fail'}`} role="status" aria-label={label}>
      <div className="test-result__head">
        <StatusBadge status={ok ? 'ok' : 'error'} label={ok ? 'Sent' : 'Failed'} />
        <span className="test-result__message">{children}</span>
      </div>
    </div>
  );
}

function SmtpFields({
  values,
  saved,
  validation,
  onChange,
  disabled,
}: {
  values: Draft[typeof SMTP_KEY];
  saved: Settings[typeof SMTP_KEY];
  validation: Validation;
  onChange(field: SmtpField, value: string | boolean): void;
  disabled: boolean;
}) {
  const text = (field: Exclude<SmtpField, 'secure'>, label: string, placeholder?: string, hint?: ReactNode) => (
    <TextField
      id={idOf(`${SMTP_KEY}.${field}`)}
      label={label}
      type={field === 'port' ? 'number' : field === 'password' ? 'password' : 'text'}
      value={String(values[field])}
      placeholder={placeholder}
      hint={hint}
      autoComplete={field === 'password' ? 'new-password' : undefined}
      error={validation.errorFor(`${SMTP_KEY}.${field}`)}
      onChange={(v) => onChange(field, v)}
      onBlur={() => validation.touch(`${SMTP_KEY}.${field}`)}
    />
  );
  // A saved password is only sent to the server it was typed for: once host, port or user change, it must be typed again.
  const retype = secretsToRetype('smtp', smtpPayload(values), saved).length > 0;
  const passwordSaved = saved.password_set === true && !retype;
  return (
    <fieldset className="subgroup" disabled={disabled}>
      <legend className="field__label">
        {SETTINGS[SMTP_KEY].description} <code className="muted">{SMTP_KEY}</code>
      </legend>
      {disabled && <p className="field__hint">Turn on e-mail alerts to edit the SMTP server.</p>}
      <div className="form-grid">
        {text('host', 'SMTP host', 'smtp.example.com')}
        {text('port', 'SMTP port', values.secure === true ? '465' : '587')}
        {text('username', 'SMTP username')}
        {text(
          'password',
          'SMTP password',
          passwordSaved ? '•••••••• (saved)' : undefined,
          retype
            ? 'The saved password is not sent to a new host, port or user: type it again.'
            : passwordSaved
              ? 'Leave empty to keep the saved password.'
              : undefined,
        )}
        {text('from', 'From address', 'backups@example.com')}
        {text('to', 'Send alerts to', 'ops@example.com')}
        <div className="form-grid__wide">
          <Checkbox
            id={idOf(`${SMTP_KEY}.secure`)}
            label="Use TLS from the start (SMTPS, usually port 465)"
            hint="Off: the connection is upgraded with STARTTLS (usually port 587), which is required unless the server is this machine."
            checked={values.secure === true}
            onChange={(v) => onChange('secure', v)}
          />
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
