import { useMemo, useState, type FormEvent, type ReactNode } from 'react';
import type { InputOf } from '../../../shared/contract.js';
import {
  NOTIFICATION_SEVERITIES,
  NOTIFICATION_TYPES,
  type NotificationRoute,
  type NotificationSink,
  type NotificationType,
} from '../../../shared/schemas/enums.js';
import type { NotificationTestResult } from '../../../shared/schemas/notification.js';
import { DEFAULT_ROUTES, SETTINGS, settingsUpdate, type SettingKey, type Settings } from '../../../shared/schemas/settings.js';
import { secretsToRetype } from '../../../shared/secrets.js';
import { notificationTypeLabel } from '../../../shared/words.js';
import { api, ApiError } from '../api.js';
import { Checkbox, SelectField, TextField } from '../components/fields.js';
import { Button, Card, ErrorBanner, KeyValue, Loading, PageHeader, StatusBadge } from '../components/ui.js';
import { optionalNumber, useValidation, type Validation } from '../forms.js';
import { toast, useStore } from '../store.js';
import { EncryptionCard } from './encryption/EncryptionCard.js';

const SMTP_KEY = 'notifications.email_smtp_config';
const ROUTING_KEY = 'notifications.routing';
/** What the form edits of the SMTP server; the saved password only shows as "saved". */
type SmtpField = 'host' | 'port' | 'secure' | 'username' | 'password' | 'from' | 'to';
type PlainKey = Exclude<SettingKey, typeof SMTP_KEY | typeof ROUTING_KEY>;

/** Every value as the form edits it: text for inputs and selects (in the unit shown), booleans for checkboxes. */
type Draft = Record<PlainKey, string | boolean> & {
  [SMTP_KEY]: Record<SmtpField, string | boolean>;
  [ROUTING_KEY]: Record<NotificationType, NotificationRoute>;
};

/**
 * How each setting the page shows is named for a person (the key a script sets is the label's
 * tooltip), and the unit it is typed in when the stored one is not a person's (minutes, not ms).
 */
const FIELDS: Partial<Record<PlainKey, { label: string; hint?: string; placeholder?: string; unit?: { perStored: number; name: string } }>> = {
  'system.max_concurrent_backups': { label: 'How many backups may run at once', hint: 'Restores and verifications count too.' },
  'system.health_check_interval_ms': {
    label: 'Check datasources and storages every',
    hint: 'In minutes. A change applies at once.',
    unit: { perStored: 60_000, name: 'minutes' },
  },
  'system.health_latency_warning_ms': {
    label: 'A datasource is slow when it answers after',
    hint: 'In milliseconds: slower answers show it as a warning.',
  },
  'system.temp_directory': {
    label: 'Folder for temporary files',
    hint: 'Restores stage the backup here: pick a disk with room. A private folder is made inside it.',
    placeholder: 'inside the data folder',
  },
  'tools.postgres_bin_dir': {
    label: 'PostgreSQL tools (pg_dump, pg_restore)',
    hint: 'Empty: found on PATH and in the usual folders.',
    placeholder: '/usr/lib/postgresql/17/bin',
  },
  'tools.mysql_bin_dir': {
    label: 'MySQL / MariaDB tools (mysqldump, mysql)',
    hint: 'Empty: found on PATH and in the usual folders.',
    placeholder: '/usr/bin',
  },
  'notifications.webhook_url': { label: 'Webhook address', placeholder: 'https://hooks.slack.com/services/…' },
  'notifications.app_url': {
    label: 'Address of this DataGuardian',
    hint: 'Puts a link to the run or the datasource in webhook and e-mail alerts. Empty: no link.',
    placeholder: 'https://nas.office.lan:8080',
  },
  'notifications.reminder_cooldown_hours': {
    label: 'While a problem lasts, remind every',
    hint: 'In hours: a datasource still down, a storage still full.',
    unit: { perStored: 1, name: 'hours' },
  },
  'notifications.email_enabled': { label: 'Send alerts by e-mail' },
};

/** The page's sections; the scheduler's poll interval and other internals stay out (scripts still set them). */
const GROUPS: { title: string; description: string; keys: PlainKey[] }[] = [
  {
    title: 'Backups and checks',
    description: 'How much runs at once, and how often health is checked.',
    keys: ['system.max_concurrent_backups', 'system.health_check_interval_ms', 'system.health_latency_warning_ms', 'system.temp_directory'],
  },
  {
    title: 'Database tools',
    description: 'Backups use each database’s own dump tools. Folders and SQLite need none.',
    keys: ['tools.postgres_bin_dir', 'tools.mysql_bin_dir'],
  },
];

const NULLABLE_KEYS = new Set<SettingKey>([
  'notifications.webhook_url',
  'notifications.app_url',
  'system.temp_directory',
  'tools.postgres_bin_dir',
  'tools.mysql_bin_dir',
  'tools.mongodb_bin_dir',
]);
const isNumber = (key: SettingKey) => SETTINGS[key].default !== null && typeof SETTINGS[key].default === 'number';
const unitOf = (key: PlainKey) => FIELDS[key]?.unit?.perStored ?? 1;

function draftOf(s: Settings): Draft {
  const smtp = s[SMTP_KEY];
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    if (key === SMTP_KEY || key === ROUTING_KEY) continue;
    const v = s[key];
    out[key] = typeof v === 'boolean' ? v : v === null || v === undefined ? '' : typeof v === 'number' ? String(+(v / unitOf(key)).toFixed(3)) : String(v);
  }
  out[ROUTING_KEY] = { ...s[ROUTING_KEY] };
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
    if (key === SMTP_KEY || key === ROUTING_KEY) continue;
    const v = d[key];
    if (typeof v === 'boolean') out[key] = v;
    else if (isNumber(key)) {
      const n = optionalNumber(v);
      out[key] = n === undefined ? '' : Number.isFinite(n) ? Math.round(n * unitOf(key) * 1000) / 1000 : n;
    } else if (NULLABLE_KEYS.has(key)) out[key] = v.trim() === '' ? null : v.trim();
    else out[key] = v;
  }
  out[ROUTING_KEY] = d[ROUTING_KEY];
  out[SMTP_KEY] = smtpPayload(d[SMTP_KEY]);
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
      <PageHeader title="Settings" subtitle="For the whole app. Point at a label to see the setting’s name for scripts." />
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

  const setValue = (key: PlainKey, value: string | boolean) => {
    validation.edited(key);
    setDraft((d) => ({ ...d, [key]: value }));
  };
  const setSmtp = (field: SmtpField, value: string | boolean) => {
    validation.edited(`${SMTP_KEY}.${field}`);
    setDraft((d) => ({ ...d, [SMTP_KEY]: { ...d[SMTP_KEY], [field]: value } }));
  };
  const setRoute = (type: NotificationType, route: NotificationRoute) => setDraft((d) => ({ ...d, [ROUTING_KEY]: { ...d[ROUTING_KEY], [type]: route } }));

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
      <NotificationsCard draft={draft} saved={initial} validation={validation} setValue={setValue} setSmtp={setSmtp} setRoute={setRoute} />
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

const WIDE_KEYS = new Set<SettingKey>(['notifications.webhook_url', 'notifications.app_url', 'system.temp_directory']);

const idOf = (key: string) => `setting-${key.replace(/[._]/g, '-')}`;
const keyTip = (key: string) => `Setting for scripts: ${key}`;

function SettingField({
  settingKey,
  value,
  validation,
  onChange,
}: {
  settingKey: PlainKey;
  value: string | boolean;
  validation: Validation;
  onChange(v: string | boolean): void;
}) {
  const spec = FIELDS[settingKey];
  const label = spec?.label ?? SETTINGS[settingKey].description;
  const id = idOf(settingKey);
  if (typeof value === 'boolean') {
    return (
      <div className="form-grid__wide" title={keyTip(settingKey)}>
        <Checkbox id={id} label={label} hint={spec?.hint} checked={value} onChange={onChange} />
      </div>
    );
  }
  return (
    <TextField
      id={id}
      label={label}
      title={keyTip(settingKey)}
      type={isNumber(settingKey) ? 'number' : 'text'}
      monospace={!isNumber(settingKey)}
      className={WIDE_KEYS.has(settingKey) ? 'form-grid__wide' : undefined}
      value={value}
      placeholder={spec?.placeholder}
      hint={spec?.hint}
      error={validation.errorFor(settingKey)}
      onChange={onChange}
      onBlur={() => validation.touch(settingKey)}
    />
  );
}

const SEVERITY_OPTIONS = NOTIFICATION_SEVERITIES.map((v) => ({
  value: v,
  label: { info: 'Everything, successes too', warning: 'Warnings and failures', critical: 'Failures only' }[v],
}));
const FORMAT_OPTIONS = [
  { value: 'json', label: 'Plain JSON' },
  { value: 'slack', label: 'Slack (incoming webhook)' },
  { value: 'discord', label: 'Discord (webhook)' },
];

/** When each kind of notification is sent, in a few words. */
const KIND_WHEN: Record<NotificationType, string> = {
  backup_success: 'Each backup that worked',
  cleanup_completed: 'Retention deleted old backups',
  restore_completed: 'A restore finished',
  backup_failed: 'A backup, restore or verification failed',
  backup_overdue: 'A job has no recent backup',
  connection_lost: 'A datasource stopped answering',
  connection_restored: 'A lost datasource answers again',
  health_degraded: 'A datasource is slow or missed a check',
  storage_full: 'A storage has no room for the next backup',
  storage_unreachable: 'A storage cannot be written to',
  delivery_failed: 'A webhook or e-mail could not be sent',
};
/** Kinds that are problems: always kept in the inbox, so "off" is not offered. */
const ALWAYS_KEPT = new Set<NotificationType>(['backup_failed', 'backup_overdue', 'connection_lost', 'storage_full', 'storage_unreachable', 'delivery_failed']);

/**
 * Where each kind of notification goes in the app, as Settings route it. Headless there is no desktop to
 * show anything on: the choice is only whether it is kept, and a desktop route set in the app stays.
 */
function Routing({
  routes,
  onChange,
}: {
  routes: Record<NotificationType, NotificationRoute>;
  onChange(type: NotificationType, route: NotificationRoute): void;
}) {
  const desktop = useStore((s) => s.info.data?.mode) === 'desktop';
  return (
    <div className="routing" role="group" aria-label="Where each notification goes" title={keyTip(ROUTING_KEY)}>
      {NOTIFICATION_TYPES.map((type) => {
        const route = routes[type];
        const kept: NotificationRoute = DEFAULT_ROUTES[type] === 'off' ? 'inbox' : DEFAULT_ROUTES[type];
        const options = [
          ...(ALWAYS_KEPT.has(type) ? [] : [{ value: 'off', label: 'Activity only' }]),
          ...(desktop
            ? [
                { value: 'inbox', label: 'Inbox' },
                { value: 'desktop', label: 'Inbox and desktop' },
              ]
            : [{ value: route === 'off' ? kept : route, label: 'Inbox' }]),
        ];
        const id = idOf(`${ROUTING_KEY}.${type}`);
        return (
          <div key={type} className="routing__row">
            <label htmlFor={id} className="routing__label">
              <span className="routing__kind">{notificationTypeLabel(type)}</span>
              <span className="routing__when">{KIND_WHEN[type]}</span>
            </label>
            <select id={id} className="input select routing__select" value={route} onChange={(e) => onChange(type, e.target.value as NotificationRoute)}>
              {options.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
          </div>
        );
      })}
    </div>
  );
}

/**
 * Where alerts go: each kind in the app (Activity only, the inbox, the desktop), then the webhook and
 * e-mail with their severity floors and settings, each with a "Send test" that tries the values as
 * they are in the form (saved or not) and shows the sink's own answer.
 */
function NotificationsCard({
  draft,
  saved,
  validation,
  setValue,
  setSmtp,
  setRoute,
}: {
  draft: Draft;
  saved: Settings;
  validation: Validation;
  setValue(key: PlainKey, value: string | boolean): void;
  setSmtp(field: SmtpField, value: string | boolean): void;
  setRoute(type: NotificationType, route: NotificationRoute): void;
}) {
  const mode = useStore((s) => s.info.data?.mode);
  const field = (key: PlainKey) => <SettingField settingKey={key} value={draft[key]} validation={validation} onChange={(v) => setValue(key, v)} />;
  const floor = (key: 'notifications.webhook_min_severity' | 'notifications.email_min_severity') => (
    <SelectField
      id={idOf(key)}
      label="What it sends"
      title={keyTip(key)}
      value={String(draft[key])}
      options={SEVERITY_OPTIONS}
      onChange={(v) => setValue(key, v)}
    />
  );
  const webhookUrl = String(draft['notifications.webhook_url']).trim();
  const emailOff = draft['notifications.email_enabled'] !== true;
  return (
    <Card
      title="Notifications"
      description="Quiet by default: a routine success stays in Activity; what needs you is kept unread in the inbox, and failures pop up on the desktop."
    >
      <div className="form-grid">
        <fieldset className="form-grid__wide subgroup">
          <legend className="field__label">In the app</legend>
          <Routing routes={draft[ROUTING_KEY]} onChange={setRoute} />
          {mode === 'desktop' && <SendTest sink="desktop" label="desktop notification" input={() => ({ sink: 'desktop' })} />}
        </fieldset>

        <fieldset className="form-grid__wide subgroup">
          <legend className="field__label">Webhook</legend>
          <div className="form-grid">
            {field('notifications.webhook_url')}
            <SelectField
              id={idOf('notifications.webhook_format')}
              label="Message format"
              title={keyTip('notifications.webhook_format')}
              value={String(draft['notifications.webhook_format'])}
              options={FORMAT_OPTIONS}
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
      title={keyTip(`${SMTP_KEY}.${field}`)}
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
      <legend className="field__label">Mail server (SMTP)</legend>
      {disabled && <p className="field__hint">Turn on e-mail alerts to edit the mail server.</p>}
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
