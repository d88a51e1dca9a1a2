import { useEffect, useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { cronError, describeSchedule, isValidTimezone, nextRuns } from '../../../shared/cron.js';
import { COMPRESSIONS, type Compression, type StorageStrategy } from '../../../shared/schemas/enums.js';
import { jobCreate, VERIFY_MODES, type Job } from '../../../shared/schemas/job.js';
import { api, ApiError, errorMessage } from '../api.js';
import { Checkbox, ChoiceCards, SelectField, TextArea, TextField } from '../components/fields.js';
import { ArrowDownIcon, ArrowLeftIcon, ArrowUpIcon, CloseIcon } from '../components/icons.js';
import { Button, Card, ErrorBanner, Loading, PageHeader } from '../components/ui.js';
import { browserTimezone, dateTime, timezones } from '../format.js';
import { lines, optionalNumber, useValidation } from '../forms.js';
import { DATASOURCE_TYPE_LABELS, STORAGE_TYPE_LABELS } from '../labels.js';
import { navigate } from '../router.js';
import { toast, useStore } from '../store.js';

/** Valid levels per algorithm and the default used when none is given (as shared/schemas/job.ts checks them). */
const LEVELS: Record<Compression, { min: number; max: number; fallback: number } | null> = {
  gzip: { min: 1, max: 9, fallback: 6 },
  zstd: { min: 1, max: 19, fallback: 3 },
  lz4: { min: 1, max: 12, fallback: 6 },
  none: null,
};

const COMPRESSION_LABELS: Record<Compression, string> = { gzip: 'gzip', zstd: 'zstd', lz4: 'lz4', none: 'None' };
const VERIFY_LABELS: Record<(typeof VERIFY_MODES)[number], string> = {
  none: 'Do not verify',
  checksum: 'Verify checksums',
  'restore-test': 'Test restore',
};

const PRESETS: [string, string][] = [
  ['0 3 * * *', 'Daily at 03:00'],
  ['0 * * * *', 'Hourly'],
  ['0 */6 * * *', 'Every 6 hours'],
  ['0 2 * * 0', 'Sundays at 02:00'],
  ['0 4 1 * *', 'Monthly'],
];

interface Draft {
  name: string;
  datasource_id: string;
  storage_ids: string[];
  strategy: StorageStrategy;
  cron: string;
  timezone: string;
  enabled: boolean;
  retentionMode: 'count' | 'legacy';
  max_backups: string;
  keep_daily: string;
  keep_weekly: string;
  keep_monthly: string;
  auto_delete: boolean;
  compression: Compression;
  level: string;
  parallel_jobs: string;
  include_tables: string;
  exclude_tables: string;
  max_file_size_mb: string;
  verify: (typeof VERIFY_MODES)[number];
}

const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));
const list = (v: unknown) => (Array.isArray(v) ? v.join('\n') : '');

function draftFromJob(job: Job): Draft {
  const r = job.retention_policy;
  const o = job.backup_options;
  const legacy = r.max_backups === undefined && (r.keep_daily !== undefined || r.keep_weekly !== undefined || r.keep_monthly !== undefined);
  const compression = (COMPRESSIONS as readonly string[]).includes(String(o.compression)) ? (o.compression as Compression) : 'gzip';
  return {
    name: job.name,
    datasource_id: job.datasource_id,
    storage_ids: job.storage_location_ids,
    strategy: job.storage_strategy,
    cron: job.schedule_cron,
    timezone: job.schedule_timezone,
    enabled: job.enabled,
    retentionMode: legacy ? 'legacy' : 'count',
    max_backups: text(r.max_backups ?? (legacy ? '' : 3)),
    keep_daily: text(r.keep_daily ?? (legacy ? '' : 7)),
    keep_weekly: text(r.keep_weekly ?? (legacy ? '' : 4)),
    keep_monthly: text(r.keep_monthly ?? (legacy ? '' : 6)),
    auto_delete: r.auto_delete !== false,
    compression,
    level: text(o.compression_level),
    parallel_jobs: text(o.parallel_jobs ?? 1),
    include_tables: list(o.include_tables),
    exclude_tables: list(o.exclude_tables),
    max_file_size_mb: text(o.max_file_size_mb),
    verify: (VERIFY_MODES as readonly string[]).includes(String(o.verify_after_backup)) ? (o.verify_after_backup as Draft['verify']) : 'none',
  };
}

function freshDraft(defaultStorage: string | undefined, datasource: string | undefined): Draft {
  return {
    name: '',
    datasource_id: datasource ?? '',
    storage_ids: defaultStorage ? [defaultStorage] : [],
    strategy: 'fallback',
    cron: '0 3 * * *',
    timezone: browserTimezone(),
    enabled: true,
    retentionMode: 'count',
    max_backups: '7',
    keep_daily: '7',
    keep_weekly: '4',
    keep_monthly: '6',
    auto_delete: true,
    compression: 'gzip',
    level: '',
    parallel_jobs: '1',
    include_tables: '',
    exclude_tables: '',
    max_file_size_mb: '',
    verify: 'checksum',
  };
}

function payloadOf(d: Draft) {
  const n = (s: string) => optionalNumber(s);
  const retention =
    d.retentionMode === 'count'
      ? { max_backups: n(d.max_backups), auto_delete: d.auto_delete }
      : { keep_daily: n(d.keep_daily), keep_weekly: n(d.keep_weekly), keep_monthly: n(d.keep_monthly), auto_delete: d.auto_delete };
  return {
    name: d.name,
    datasource_id: d.datasource_id,
    storage_location_ids: d.storage_ids,
    storage_strategy: d.strategy,
    schedule_cron: d.cron,
    schedule_timezone: d.timezone,
    enabled: d.enabled,
    retention_policy: Object.fromEntries(Object.entries(retention).filter(([, v]) => v !== undefined)),
    backup_options: {
      compression: d.compression,
      ...(d.compression !== 'none' && d.level.trim() !== '' ? { compression_level: Number(d.level) } : {}),
      ...(d.parallel_jobs.trim() !== '' ? { parallel_jobs: Number(d.parallel_jobs) } : {}),
      include_tables: lines(d.include_tables),
      exclude_tables: lines(d.exclude_tables),
      ...(d.max_file_size_mb.trim() !== '' ? { max_file_size_mb: Number(d.max_file_size_mb) } : {}),
      verify_after_backup: d.verify,
    },
  };
}

export function JobFormPage({ id }: { id?: string }) {
  const [stored, setStored] = useState<Job | undefined>();
  const [loadError, setLoadError] = useState<string | null>(null);
  const datasources = useStore((s) => s.datasources.data);
  const storages = useStore((s) => s.storages.data);

  useEffect(() => {
    if (!id) return;
    api.run('jobs.get', { id }).then(setStored, (e) => setLoadError(errorMessage(e)));
  }, [id]);

  const back = (
    <a className="back-link" href="#/jobs">
      <ArrowLeftIcon size={16} /> Backup jobs
    </a>
  );
  const title = id ? 'Edit backup job' : 'Add backup job';
  if (loadError) {
    return (
      <>
        <PageHeader title={title} back={back} />
        <ErrorBanner title="Could not open this job">{loadError}</ErrorBanner>
      </>
    );
  }
  if ((id && !stored) || !datasources || !storages) {
    return (
      <>
        <PageHeader title={title} back={back} />
        <Loading what={id ? 'job' : 'datasources and storages'} />
      </>
    );
  }
  return <JobForm key={stored?.id ?? 'new'} stored={stored} back={back} />;
}

function JobForm({ stored, back }: { stored?: Job; back: ReactNode }) {
  const editing = stored !== undefined;
  const datasources = useStore((s) => s.datasources.data) ?? [];
  const storages = useStore((s) => s.storages.data) ?? [];
  const [draft, setDraft] = useState<Draft>(() =>
    stored ? draftFromJob(stored) : freshDraft(storages.find((s) => s.is_default)?.id, datasources.length === 1 ? datasources[0]!.id : undefined),
  );
  const payload = useMemo(() => payloadOf(draft), [draft]);
  const validation = useValidation(jobCreate, payload);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
  const zones = useMemo(() => timezones(), []);

  const set = <K extends keyof Draft>(key: K, path?: string) => (value: Draft[K]) => {
    if (path) validation.edited(path);
    setDraft((d) => ({ ...d, [key]: value }));
  };

  const schedule = useMemo(() => {
    const error = cronError(draft.cron);
    if (error || !isValidTimezone(draft.timezone)) return null;
    try {
      return { words: describeSchedule(draft.cron, draft.timezone), runs: nextRuns(draft.cron, draft.timezone, 5) };
    } catch {
      return null;
    }
  }, [draft.cron, draft.timezone]);

  async function save() {
    validation.submit();
    setSaveError(null);
    const parsed = validation.parsed;
    if (!parsed.success) return;
    setSaving(true);
    const result = stored ? await api.call('jobs.update', { ...payload, id: stored.id }) : await api.call('jobs.create', payload);
    setSaving(false);
    if (result.ok) {
      toast('success', editing ? `Saved “${result.data.name}”` : `Created “${result.data.name}”`);
      void useStore.getState().load('jobs');
      navigate('/jobs');
      return;
    }
    validation.serverError(new ApiError(result.error));
    setSaveError(result.error.message);
  }

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void save();
  };

  const level = LEVELS[draft.compression];
  const available = storages.filter((s) => !draft.storage_ids.includes(s.id));
  const storageName = (id: string) => storages.find((s) => s.id === id);
  const move = (i: number, by: -1 | 1) =>
    setDraft((d) => {
      const ids = [...d.storage_ids];
      const [item] = ids.splice(i, 1);
      ids.splice(i + by, 0, item!);
      return { ...d, storage_ids: ids };
    });
  const datasourceError = draft.datasource_id === '' ? (validation.errorFor('datasource_id') ? 'Choose a datasource' : undefined) : validation.errorFor('datasource_id');
  const otherErrors = validation.formErrors([
    'name',
    'datasource_id',
    'storage_location_ids',
    'schedule_cron',
    'schedule_timezone',
    'retention_policy',
    'retention_policy.max_backups',
    'retention_policy.keep_daily',
    'retention_policy.keep_weekly',
    'retention_policy.keep_monthly',
    'backup_options.compression_level',
    'backup_options.parallel_jobs',
    'backup_options.max_file_size_mb',
  ]);

  return (
    <>
      <PageHeader back={back} title={editing ? `Edit ${stored.name}` : 'Add backup job'} subtitle="What to back up, where to keep it, and when." />
      <form className="form" onSubmit={onSubmit} noValidate aria-label={editing ? 'Edit backup job' : 'Add backup job'}>
        <Card title="What and where">
          <div className="form-grid">
            <TextField
              id="job-name"
              label="Name"
              required
              value={draft.name}
              placeholder="Nightly production backup"
              error={validation.errorFor('name')}
              onChange={set('name', 'name')}
              onBlur={() => validation.touch('name')}
            />
            <SelectField
              id="job-datasource"
              label="Datasource"
              required
              value={draft.datasource_id}
              placeholder={datasources.length ? 'Choose a datasource' : 'Add a datasource first'}
              options={datasources.map((d) => ({ value: d.id, label: `${d.name} (${DATASOURCE_TYPE_LABELS[d.type]})` }))}
              error={datasourceError}
              onChange={set('datasource_id', 'datasource_id')}
              onBlur={() => validation.touch('datasource_id')}
            />
            <div className="form-grid__wide">
              <div className="field">
                <span className="field__label" id="job-storages-label">
                  Storages <span className="field__required" aria-hidden="true">*</span>
                </span>
                {draft.storage_ids.length > 0 ? (
                  <ol className="ordered-list" aria-labelledby="job-storages-label">
                    {draft.storage_ids.map((id, i) => {
                      const s = storageName(id);
                      return (
                        <li key={id} className="ordered-list__item">
                          <span className="ordered-list__pos">{i + 1}</span>
                          <span className="ordered-list__name">
                            {s?.name ?? 'Deleted storage'}
                            {s && <span className="muted"> · {STORAGE_TYPE_LABELS[s.type]}</span>}
                          </span>
                          <span className="ordered-list__actions">
                            <button type="button" className="icon-btn" aria-label={`Move ${s?.name ?? id} up`} disabled={i === 0} onClick={() => move(i, -1)}>
                              <ArrowUpIcon />
                            </button>
                            <button
                              type="button"
                              className="icon-btn"
                              aria-label={`Move ${s?.name ?? id} down`}
                              disabled={i === draft.storage_ids.length - 1}
                              onClick={() => move(i, 1)}
                            >
                              <ArrowDownIcon />
                            </button>
                            <button
                              type="button"
                              className="icon-btn"
                              aria-label={`Remove ${s?.name ?? id}`}
                              onClick={() => set('storage_ids', 'storage_location_ids')(draft.storage_ids.filter((x) => x !== id))}
                            >
                              <CloseIcon />
                            </button>
                          </span>
                        </li>
                      );
                    })}
                  </ol>
                ) : (
                  <p className="muted">No storage chosen yet.</p>
                )}
                {validation.errorFor('storage_location_ids') && <p className="field__error">{validation.errorFor('storage_location_ids')}</p>}
              </div>
              {available.length > 0 && (
                <div className="inline-add">
                  <label htmlFor="job-add-storage" className="field__label">
                    Add a storage
                  </label>
                  <select
                    id="job-add-storage"
                    className="input select"
                    value=""
                    onChange={(e) => e.target.value && set('storage_ids', 'storage_location_ids')([...draft.storage_ids, e.target.value])}
                  >
                    <option value="">Choose…</option>
                    {available.map((s) => (
                      <option key={s.id} value={s.id}>
                        {s.name} ({STORAGE_TYPE_LABELS[s.type]})
                      </option>
                    ))}
                  </select>
                </div>
              )}
              {storages.length === 0 && (
                <p className="field__hint">
                  No storage exists yet: <a href="#/storages/new">add one</a> first.
                </p>
              )}
            </div>
            {draft.storage_ids.length > 1 && (
              <div className="form-grid__wide">
                <ChoiceCards
                  name="job-strategy"
                  legend="With several storages"
                  compact
                  value={draft.strategy}
                  onChange={set('strategy')}
                  choices={[
                    { value: 'fallback', label: 'Fallback', description: 'Write to the first storage that works; the next ones are only used when it fails.' },
                    { value: 'replicate', label: 'Replicate', description: 'Write to the first storage that works, then copy the backup to every other one.' },
                  ]}
                />
              </div>
            )}
          </div>
        </Card>

        <Card title="Schedule" description="A cron expression: minute, hour, day of month, month, day of week.">
          <div className="form-grid">
            <TextField
              id="job-cron"
              label="Schedule (cron)"
              required
              monospace
              value={draft.cron}
              placeholder="0 3 * * *"
              error={validation.errorFor('schedule_cron')}
              onChange={(v) => {
                // The preview is live, so is its error.
                validation.touch('schedule_cron');
                set('cron', 'schedule_cron')(v);
              }}
            />
            <TextField
              id="job-timezone"
              label="Timezone"
              required
              list="job-timezones"
              value={draft.timezone}
              error={validation.errorFor('schedule_timezone')}
              hint="Daylight saving time is followed."
              onChange={(v) => {
                validation.touch('schedule_timezone');
                set('timezone', 'schedule_timezone')(v);
              }}
            />
            <datalist id="job-timezones">
              {zones.map((z) => (
                <option key={z} value={z} />
              ))}
            </datalist>
            <div className="form-grid__wide presets" role="group" aria-label="Common schedules">
              {PRESETS.map(([cron, label]) => (
                <button
                  key={cron}
                  type="button"
                  className={`preset ${draft.cron.trim() === cron ? 'preset--on' : ''}`}
                  onClick={() => {
                    validation.edited('schedule_cron');
                    setDraft((d) => ({ ...d, cron }));
                  }}
                >
                  {label}
                </button>
              ))}
            </div>
            <div className="form-grid__wide">
              {schedule ? (
                <div className="schedule-preview" aria-label="Schedule preview">
                  <p className="schedule-preview__words">{schedule.words}</p>
                  <p className="field__label">Next runs</p>
                  <ol className="schedule-preview__runs">
                    {schedule.runs.map((r) => (
                      <li key={r}>
                        {dateTime(r, draft.timezone)}
                        {draft.timezone !== browserTimezone() && <span className="muted"> · {dateTime(r)} your time</span>}
                      </li>
                    ))}
                  </ol>
                </div>
              ) : (
                <div className="schedule-preview schedule-preview--empty">Fix the schedule to see when it runs.</div>
              )}
            </div>
            <div className="form-grid__wide">
              <Checkbox id="job-enabled" label="Enabled" hint="A disabled job keeps its settings but does not run on schedule." checked={draft.enabled} onChange={set('enabled')} />
            </div>
          </div>
        </Card>

        <Card title="Retention" description="Old backups beyond these limits are deleted after each successful backup.">
          <div className="segmented" role="radiogroup" aria-label="Retention rule">
            {(
              [
                ['count', 'Keep the last N backups'],
                ['legacy', 'Keep daily / weekly / monthly'],
              ] as const
            ).map(([mode, label]) => (
              <label key={mode} className={`segmented__item ${draft.retentionMode === mode ? 'segmented__item--on' : ''}`}>
                <input type="radio" name="retention-mode" value={mode} checked={draft.retentionMode === mode} onChange={() => set('retentionMode', 'retention_policy')(mode)} />
                {label}
              </label>
            ))}
          </div>
          <div className="form-grid form-grid--3">
            {draft.retentionMode === 'count' ? (
              <TextField
                id="job-max-backups"
                label="Backups to keep"
                type="number"
                min={1}
                value={draft.max_backups}
                error={validation.errorFor('retention_policy.max_backups') ?? validation.errorFor('retention_policy')}
                onChange={set('max_backups', 'retention_policy.max_backups')}
                onBlur={() => validation.touch('retention_policy.max_backups')}
              />
            ) : (
              <>
                <TextField
                  id="job-keep-daily"
                  label="Daily backups"
                  type="number"
                  min={0}
                  value={draft.keep_daily}
                  error={validation.errorFor('retention_policy.keep_daily') ?? validation.errorFor('retention_policy')}
                  onChange={set('keep_daily', 'retention_policy.keep_daily')}
                  onBlur={() => validation.touch('retention_policy.keep_daily')}
                />
                <TextField
                  id="job-keep-weekly"
                  label="Weekly backups"
                  type="number"
                  min={0}
                  value={draft.keep_weekly}
                  error={validation.errorFor('retention_policy.keep_weekly')}
                  onChange={set('keep_weekly', 'retention_policy.keep_weekly')}
                  onBlur={() => validation.touch('retention_policy.keep_weekly')}
                />
                <TextField
                  id="job-keep-monthly"
                  label="Monthly backups"
                  type="number"
                  min={0}
                  value={draft.keep_monthly}
                  error={validation.errorFor('retention_policy.keep_monthly')}
                  onChange={set('keep_monthly', 'retention_policy.keep_monthly')}
                  onBlur={() => validation.touch('retention_policy.keep_monthly')}
                />
              </>
            )}
          </div>
          <Checkbox
            id="job-auto-delete"
            label="Delete old backups automatically"
            hint="Off: nothing is deleted; the limits above are only reported."
            checked={draft.auto_delete}
            onChange={set('auto_delete')}
          />
        </Card>

        <Card title="Backup options">
          <div className="form-grid form-grid--3">
            <SelectField
              id="job-compression"
              label="Compression"
              value={draft.compression}
              options={COMPRESSIONS.map((c) => ({ value: c, label: COMPRESSION_LABELS[c] }))}
              hint="Standard formats: gzip, zstd and lz4 files open with their usual tools."
              onChange={(v) => {
                validation.edited('backup_options.compression_level');
                setDraft((d) => ({ ...d, compression: v as Compression }));
              }}
            />
            <TextField
              id="job-compression-level"
              label="Compression level"
              type="number"
              min={level?.min}
              max={level?.max}
              disabled={!level}
              value={level ? draft.level : ''}
              placeholder={level ? String(level.fallback) : '—'}
              hint={level ? `${level.min}–${level.max}; empty uses ${level.fallback}.` : 'No compression.'}
              error={validation.errorFor('backup_options.compression_level')}
              onChange={set('level', 'backup_options.compression_level')}
              onBlur={() => validation.touch('backup_options.compression_level')}
            />
            <SelectField
              id="job-verify"
              label="After each backup"
              value={draft.verify}
              options={VERIFY_MODES.map((m) => ({ value: m, label: VERIFY_LABELS[m] }))}
              hint="Checksums re-read every part; a test restore also loads it."
              onChange={(v) => set('verify')(v as Draft['verify'])}
            />
            <TextField
              id="job-parallel-jobs"
              label="Parallel jobs"
              type="number"
              min={1}
              max={32}
              value={draft.parallel_jobs}
              hint="Dump threads, where the engine supports them."
              error={validation.errorFor('backup_options.parallel_jobs')}
              onChange={set('parallel_jobs', 'backup_options.parallel_jobs')}
              onBlur={() => validation.touch('backup_options.parallel_jobs')}
            />
            <TextField
              id="job-max-file-size"
              label="Split into parts of (MB)"
              type="number"
              min={1}
              value={draft.max_file_size_mb}
              placeholder="No split"
              hint="Parts join back with cat."
              error={validation.errorFor('backup_options.max_file_size_mb')}
              onChange={set('max_file_size_mb', 'backup_options.max_file_size_mb')}
              onBlur={() => validation.touch('backup_options.max_file_size_mb')}
            />
            <div />
            <TextArea
              id="job-include-tables"
              label="Only these tables"
              rows={3}
              monospace
              value={draft.include_tables}
              placeholder="public.orders"
              hint="One per line. Empty backs up every table."
              onChange={set('include_tables')}
            />
            <TextArea
              id="job-exclude-tables"
              label="Skip these tables"
              rows={3}
              monospace
              value={draft.exclude_tables}
              placeholder="public.sessions"
              hint="One per line."
              onChange={set('exclude_tables')}
            />
          </div>
        </Card>

        {otherErrors.length > 0 && (
          <ErrorBanner title="Please fix these first">
            <ul className="plain-list">
              {otherErrors.map((m) => (
                <li key={m}>{m}</li>
              ))}
            </ul>
          </ErrorBanner>
        )}
        {saveError && <ErrorBanner title="Could not save">{saveError}</ErrorBanner>}
        <div className="form-actions">
          <Button onClick={() => navigate('/jobs')}>Cancel</Button>
          <Button type="submit" variant="primary" busy={saving}>
            {editing ? 'Save changes' : 'Save job'}
          </Button>
        </div>
      </form>
    </>
  );
}
