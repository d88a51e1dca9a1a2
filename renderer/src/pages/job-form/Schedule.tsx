import { useMemo } from 'react';
import { cronError, describeSchedule, isValidTimezone, nextRuns } from '../../../../shared/cron.js';
import { Checkbox, SelectField, TextField } from '../../components/fields.js';
import { Card } from '../../components/ui.js';
import { dateTime } from '../../../../shared/format.js';
import { browserTimezone, timezones } from '../../format.js';
import type { SectionProps } from './draft.js';

const PRESETS: [string, string][] = [
  ['0 3 * * *', 'Daily at 03:00'],
  ['0 * * * *', 'Hourly'],
  ['0 */6 * * *', 'Every 6 hours'],
  ['0 2 * * 0', 'Sundays at 02:00'],
  ['0 4 1 * *', 'Monthly'],
];

/** When the job runs: a cron expression in a timezone, shown back in words with its next runs. */
export function Schedule({ draft, set, bind, validation }: SectionProps) {
  const zones = useMemo(() => timezones(), []);
  const preview = useMemo(() => {
    if (cronError(draft.cron) || !isValidTimezone(draft.timezone)) return null;
    try {
      return { words: describeSchedule(draft.cron, draft.timezone), runs: nextRuns(draft.cron, draft.timezone, 5) };
    } catch {
      return null;
    }
  }, [draft.cron, draft.timezone]);

  return (
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
              onClick={() => set('cron', 'schedule_cron')(cron)}
            >
              {label}
            </button>
          ))}
        </div>
        <div className="form-grid__wide">
          {preview ? (
            <div className="schedule-preview" aria-label="Schedule preview">
              <p className="schedule-preview__words">{preview.words}</p>
              <p className="field__label">Next runs</p>
              <ol className="schedule-preview__runs">
                {preview.runs.map((r) => (
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
          <Checkbox
            id="job-enabled"
            label="Enabled"
            hint="A disabled job keeps its settings but does not run on schedule."
            checked={draft.enabled}
            onChange={set('enabled')}
          />
        </div>
        <SelectField
          id="job-catch-up"
          label="When runs were missed"
          hint="The computer was off or asleep at the scheduled time."
          value={draft.catch_up}
          options={[
            { value: 'once', label: 'Run once as soon as DataGuardian is back' },
            { value: 'skip', label: 'Skip them, wait for the next time' },
          ]}
          onChange={(v) => set('catch_up', 'catch_up')(v === 'skip' ? 'skip' : 'once')}
        />
        <TextField
          id="job-jitter"
          label="Start up to (minutes) later"
          type="number"
          hint="A random delay, so jobs set to the same time do not all start at once. 0: on time."
          {...bind('jitter_minutes', 'jitter_minutes')}
        />
        <TextField
          id="job-retries"
          label="Retries after a failure"
          type="number"
          hint="A failed scheduled run is tried again this many times."
          {...bind('max_retries', 'max_retries')}
        />
        <TextField
          id="job-retry-delay"
          label="First retry after (minutes)"
          type="number"
          hint="Each next retry waits three times longer: 5, 15, 45…"
          {...bind('retry_delay_minutes', 'retry_delay_minutes')}
        />
      </div>
    </Card>
  );
}
