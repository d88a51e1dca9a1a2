import { Checkbox, TextField } from '../../components/fields.js';
import { Card } from '../../components/ui.js';
import type { SectionProps } from './draft.js';

const RULES = [
  ['count', 'Keep the last N backups'],
  ['legacy', 'Keep daily / weekly / monthly'],
] as const;

const PERIODS = [
  { key: 'keep_daily', id: 'job-keep-daily', label: 'Daily backups' },
  { key: 'keep_weekly', id: 'job-keep-weekly', label: 'Weekly backups' },
  { key: 'keep_monthly', id: 'job-keep-monthly', label: 'Monthly backups' },
] as const;

/** How many backups are kept: the last N, or so many per day, week and month. */
export function Retention({ draft, set, bind, validation }: SectionProps) {
  // A problem with the rule as a whole shows under its first field.
  const ruleError = validation.errorFor('retention_policy');
  const count = bind('max_backups', 'retention_policy.max_backups');

  return (
    <Card title="Retention" description="Old backups beyond these limits are deleted after each successful backup.">
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
      </div>
      <Checkbox
        id="job-auto-delete"
        label="Delete old backups automatically"
        hint="Off: nothing is deleted; the limits above are only reported."
        checked={draft.auto_delete}
        onChange={set('auto_delete')}
      />
    </Card>
  );
}
