import { useEffect, useMemo, useState } from 'react';
import { retentionPolicy } from '../../../../shared/schemas/job.js';
import type { OutputOf } from '../../../../shared/contract.js';
import { api } from '../../api.js';
import { Checkbox, TextField } from '../../components/fields.js';
import { Card, StatusBadge } from '../../components/ui.js';
import { dateTime } from '../../../../shared/format.js';
import { retentionOf, type SectionProps } from './draft.js';

const RULES = [
  ['count', 'Keep the last N backups'],
  ['legacy', 'Keep daily / weekly / monthly / yearly'],
] as const;

const PERIODS = [
  { key: 'keep_daily', id: 'job-keep-daily', label: 'Daily backups' },
  { key: 'keep_weekly', id: 'job-keep-weekly', label: 'Weekly backups' },
  { key: 'keep_monthly', id: 'job-keep-monthly', label: 'Monthly backups' },
  { key: 'keep_yearly', id: 'job-keep-yearly', label: 'Yearly backups' },
] as const;

type Preview = OutputOf<'jobs.retentionPreview'>;

/** How many backups are kept: the last N, or so many per day, week, month and year; and, for a saved job, which of its backups that keeps. */
export function Retention({ draft, set, bind, validation, jobId }: SectionProps & { jobId?: string }) {
  // A problem with the rule as a whole shows under its first field.
  const ruleError = validation.errorFor('retention_policy');
  const count = bind('max_backups', 'retention_policy.max_backups');
  const minKeep = bind('min_keep', 'retention_policy.min_keep');

  return (
    <Card
      title="Retention"
      description="Old backups beyond these limits are deleted after each successful backup and every day at 04:00. The newest backup, and any a restore is waiting for, always stay."
    >
      <div className="segmented" role="radiogroup" aria-label="Retention rule">
        {RULES.map(([mode, label]) => (
          <label key={mode} className={`segmented__item ${draft.retentionMode === mode ? 'segmented__item--on' : ''}`}>
            <input
              type="radio"
              name="retention-mode"
              value={mode}
              checked={draft.retentionMode === mode}
              onChange={() => set('retentionMode', 'retention_policy')(mode)}
            />
            {label}
          </label>
        ))}
      </div>
      <div className="form-grid form-grid--3">
        {draft.retentionMode === 'count' ? (
          <TextField id="job-max-backups" label="Backups to keep" type="number" min={1} {...count} error={count.error ?? ruleError} />
        ) : (
          PERIODS.map(({ key, id, label }, i) => {
            const field = bind(key, `retention_policy.${key}`);
            return <TextField key={key} id={id} label={label} type="number" min={0} {...field} error={i === 0 ? (field.error ?? ruleError) : field.error} />;
          })
        )}
        <TextField id="job-min-keep" label="Never fewer than" type="number" min={1} hint="Backups kept whatever the rule says." {...minKeep} />
      </div>
      <Checkbox
        id="job-auto-delete"
        label="Delete old backups automatically"
        hint="Off: nothing is deleted; the limits above are only reported."
        checked={draft.auto_delete}
        onChange={set('auto_delete')}
      />
      {jobId && <RetentionPreview jobId={jobId} rule={retentionOf(draft)} timeZone={draft.timezone} />}
    </Card>
  );
}

/** Which of the job's existing backups the rule being edited keeps, and why; asked again as the rule changes. */
function RetentionPreview({ jobId, rule, timeZone }: { jobId: string; rule: Record<string, unknown>; timeZone: string }) {
  const key = JSON.stringify(rule);
  const parsed = useMemo(() => retentionPolicy.safeParse(JSON.parse(key)), [key]);
  const [preview, setPreview] = useState<{ key: string; data?: Preview; error?: string }>();

  useEffect(() => {
    if (!parsed.success) return;
    let current = true;
    // Typing a number fires a change per digit: ask once the rule has settled.
    const timer = setTimeout(() => {
      void api.call('jobs.retentionPreview', { id: jobId, retention_policy: parsed.data }).then((r) => {
        if (current) setPreview(r.ok ? { key, data: r.data } : { key, error: r.error.message });
      });
    }, 300);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [jobId, key, parsed]);

  if (!parsed.success) return null;
  if (!preview) return <p className="muted">Checking which backups this rule keeps…</p>;
  if (preview.error) return <p className="field__error">{preview.error}</p>;
  const data = preview.data!;
  const rows = [...data.kept, ...data.deleted].sort((a, b) => b.started_at.localeCompare(a.started_at));
  if (rows.length === 0) return <p className="muted">This job has no backups yet.</p>;
  return (
    <section aria-label="Retention preview">
      <h4>
        With this rule: {data.kept.length} kept, {data.deleted.length} {data.auto_delete ? 'deleted' : 'would be deleted (automatic deletion is off)'}
      </h4>
      <table className="table" aria-label="Backups and what retention does with them">
        <thead>
          <tr>
            <th>Backup</th>
            <th>Outcome</th>
            <th>Why</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((d) => (
            <tr key={d.execution_id}>
              <td>
                <a href={`#/activity/${d.execution_id}`}>{dateTime(d.started_at, timeZone)}</a>
              </td>
              <td>
                <StatusBadge status={d.keep ? 'completed' : 'failed'} label={d.keep ? 'Kept' : data.auto_delete ? 'Deleted' : 'Would be deleted'} />
              </td>
              <td>{d.keep ? d.reasons.join(', ') : 'Outside the rule'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
