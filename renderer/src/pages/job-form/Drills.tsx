import { cronError, describeSchedule } from '../../../../shared/cron.js';
import { DRILL_PICKS, drillPick } from '../../../../shared/schemas/drill.js';
import { SelectField, Switch, TextArea, TextField } from '../../components/fields.js';
import { Card } from '../../components/ui.js';
import type { SectionProps } from './draft.js';

const PICK_LABELS = { latest: 'The newest backup', random: 'A backup at random', oldest: 'The oldest backup kept' } as const;

/**
 * Restore drills: off unless switched on (then weekly is suggested). A drill restores one backup into a scratch
 * target, checks it against what was recorded at backup time, and measures how long a restore takes.
 */
export function Drills({ draft, set, validation }: SectionProps) {
  const cronProblem = draft.drill_on ? cronError(draft.drill_cron) : null;
  return (
    <Card title="Restore drills">
      <Switch
        label="Restore drills on a schedule"
        checked={draft.drill_on}
        onChange={set('drill_on', 'drill_cron')}
        text={draft.drill_on ? 'Drills on a schedule' : 'No scheduled drills'}
      />
      {draft.drill_on && (
        <div className="form-grid form-grid--3">
          <TextField
            id="job-drill-cron"
            label="Drill schedule"
            value={draft.drill_cron}
            error={cronProblem ?? validation.errorFor('drill_cron')}
            hint={
              cronProblem
                ? undefined
                : `${describeSchedule(draft.drill_cron, draft.timezone)}, in the job's timezone; one drill at a time, never during a backup.`
            }
            onChange={set('drill_cron', 'drill_cron')}
          />
          <SelectField
            id="job-drill-pick"
            label="Which backup"
            value={draft.drill_pick}
            options={DRILL_PICKS.map((p) => ({ value: p, label: PICK_LABELS[p] }))}
            hint="The oldest kept is the one most likely to have rotted."
            onChange={(v) => {
              const parsed = drillPick.safeParse(v);
              if (parsed.success) set('drill_pick')(parsed.data);
            }}
          />
          <TextArea
            id="job-drill-assertions"
            label="Must be true after a restore"
            rows={3}
            monospace
            value={draft.drill_assertions}
            placeholder="select count(*) > 0 from orders"
            hint="One SQL query per line; its first column must be true. Run read-only on the restored copy."
            onChange={set('drill_assertions')}
          />
        </div>
      )}
    </Card>
  );
}
