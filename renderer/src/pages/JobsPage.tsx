import { useState } from 'react';
import type { Job } from '../../../shared/schemas/job.js';
import { api } from '../api.js';
import { ClockIcon, PlayIcon } from '../components/icons.js';
import { ListPage } from '../components/ListPage.js';
import { editAndDelete, EnabledSwitch, RowActions, type MenuItem } from '../components/row-actions.js';
import { Switch } from '../components/fields.js';
import { Button, StatusBadge } from '../components/ui.js';
import { dateTime, fromNow } from '../../../shared/format.js';
import { navigate } from '../router.js';
import { toast, useStore, watchRun } from '../store.js';
import { triggerLabel } from '../labels.js';
import { lastDrillText } from '../../../shared/drill-words.js';

export function JobsPage() {
  const datasources = useStore((s) => s.datasources.data);
  const storages = useStore((s) => s.storages.data);
  const ready = (datasources?.length ?? 0) > 0 && (storages?.length ?? 0) > 0;

  return (
    <ListPage
      resource="jobs"
      collection={useStore((s) => s.jobs)}
      title="Backup jobs"
      subtitle="Each job backs up one datasource on a schedule."
      what="backup jobs"
      add={{ label: 'Add backup job', path: '/jobs/new' }}
      empty={{
        icon: <ClockIcon size={28} />,
        title: 'No backup jobs yet',
        text: ready
          ? 'A job says what to back up, where to keep it, and when. You can run it by hand at any time.'
          : 'A job needs a datasource to back up and a storage to keep the copies. Add those first.',
        // Until both exist a job cannot be saved: offer what is missing instead of the Add button.
        action: ready ? undefined : (
          <div className="empty__steps">
            {(datasources?.length ?? 0) === 0 && (
              <a className="btn btn--secondary" href="#/datasources/new">
                Add a datasource
              </a>
            )}
            {(storages?.length ?? 0) === 0 && (
              <a className="btn btn--secondary" href="#/storages/new">
                Add a storage
              </a>
            )}
          </div>
        ),
      }}
      headerExtra={<PauseSchedules />}
      table={{ label: 'Backup jobs', columns: ['Job', 'Schedule', 'Next run', 'Last result', 'Enabled'] }}
      Row={JobRow}
      deletion={{
        what: 'backup job',
        consequence: 'It stops running. Backups it already made stay on your storages.',
        remove: (id) => api.call('jobs.delete', { id }),
      }}
    />
  );
}

/**
 * The global switch, labelled with the state it is in: while schedules are paused no job runs by itself,
 * and what is missed meanwhile is not caught up.
 */
function PauseSchedules() {
  const settings = useStore((s) => s.settings.data);
  const load = useStore((s) => s.load);
  const [saving, setSaving] = useState(false);
  if (!settings) return null;
  const paused = settings['schedules.paused'];
  async function toggle(running: boolean) {
    setSaving(true);
    const result = await api.call('settings.update', { 'schedules.paused': !running });
    setSaving(false);
    if (result.ok) toast('success', running ? 'Schedules running again' : 'All schedules paused: no job runs by itself until you resume');
    else toast('error', result.error.message);
    void load('settings');
    void load('jobs');
  }
  return (
    <span className={`state-switch ${paused ? 'state-switch--off' : ''}`}>
      <Switch label="Schedules running" checked={!paused} disabled={saving} onChange={toggle} text={paused ? 'All schedules paused' : 'Schedules running'} />
    </span>
  );
}

function JobRow({ item: j, onDelete }: { item: Job; onDelete(): void }) {
  const allPaused = useStore((s) => s.settings.data?.['schedules.paused'] ?? false);
  const datasources = useStore((s) => s.datasources.data) ?? [];
  const storages = useStore((s) => s.storages.data) ?? [];
  const [running, setRunning] = useState(false);
  const datasource = datasources.find((d) => d.id === j.datasource_id);
  const names = j.storage_location_ids.map((id) => storages.find((s) => s.id === id)?.name ?? 'Deleted storage');
  const habits = [
    j.catch_up === 'once' ? 'Catches up once' : 'Skips missed runs',
    j.max_retries ? `${j.max_retries} ${j.max_retries === 1 ? 'retry' : 'retries'}` : 'No retries',
    j.jitter_minutes > 0 ? `up to ${j.jitter_minutes} min later` : null,
  ].filter(Boolean);

  async function run() {
    setRunning(true);
    const result = await api.call('jobs.run', { id: j.id });
    setRunning(false);
    if (!result.ok) return toast('error', result.error.message);
    watchRun(result.data.execution_id, `Backup “${j.name}”`);
    // Straight to the execution, where its progress shows live.
    navigate(`/activity/${result.data.execution_id}`);
  }

  /** A drill now: the job's drill_pick backup restored into a scratch target and checked. */
  async function drill() {
    const result = await api.call('jobs.drill', { id: j.id });
    if (!result.ok) return toast('error', result.error.message);
    watchRun(result.data.execution_id, `Drill of “${j.name}”`);
    navigate(`/activity/${result.data.execution_id}`);
  }

  return (
    <tr className={j.enabled ? '' : 'table__row--muted'}>
      <td>
        <a className="table__name" href={`#/jobs/${j.id}/edit`}>
          {j.name}
        </a>
        <div className="table__sub">
          {datasource?.name ?? 'Unknown datasource'} → {names.join(j.storage_strategy === 'replicate' ? ' + ' : ', then ')}
        </div>
      </td>
      <td>
        <span title={`${j.schedule_cron} (${j.schedule_timezone})`}>{j.schedule_description}</span>
        <div className="table__sub" title="What happens to runs missed while DataGuardian was off, and how often a failed run is tried again">
          {habits.join(' · ')}
        </div>
      </td>
      <td title={j.next_execution_at ? dateTime(j.next_execution_at, j.schedule_timezone) : undefined}>
        {!j.enabled ? <span className="muted">Paused</span> : allPaused ? <span className="muted">Schedules paused</span> : fromNow(j.next_execution_at)}
      </td>
      <td>
        {j.last_result ? (
          <a href={`#/activity/${j.last_result.execution_id}`} title={j.last_result.error_message ?? undefined} className="plain-link">
            <StatusBadge status={j.last_result.status} />
            <div className="table__sub">
              {fromNow(j.last_result.at)} ·{' '}
              {triggerLabel({ operation: 'backup', trigger: j.last_result.trigger, attempt: j.last_result.trigger === 'retry' ? 2 : 1 }).toLowerCase()}
            </div>
          </a>
        ) : (
          <span className="muted">Never run</span>
        )}
        {(j.last_drill || j.drill_cron) && <LastDrillLine job={j} />}
      </td>
      <td>
        <EnabledSwitch name={j.name} enabled={j.enabled} resource="jobs" save={(enabled) => api.call('jobs.update', { id: j.id, enabled })} />
      </td>
      <RowActions
        menu={{
          label: `Actions for ${j.name}`,
          items: withDrill(
            [{ label: 'Show its runs', onSelect: () => navigate(`/activity/job/${j.id}`) }, ...editAndDelete(`/jobs/${j.id}/edit`, onDelete)],
            () => void drill(),
          ),
        }}
      >
        <Button size="sm" variant="ghost" busy={running} onClick={run} ariaLabel={`Run now: ${j.name}`}>
          <PlayIcon size={14} /> Run now
        </Button>
      </RowActions>
    </tr>
  );
}

/** "Last drill passed 2 days ago · a full restore took 4 min 12 s": quiet when it passed, an error's colour when it failed. */
function LastDrillLine({ job }: { job: Job }) {
  const d = job.last_drill;
  const text = lastDrillText(d);
  return (
    <div className={`table__sub ${d && d.status !== 'completed' ? 'text-bad' : ''}`} data-testid="last-drill">
      {d ? (
        <a href={`#/activity/${d.execution_id}`} className="plain-link">
          {text}
        </a>
      ) : (
        text
      )}
    </div>
  );
}

/** "Drill now" goes just before Delete…, which stays last. */
function withDrill(items: MenuItem[], onSelect: () => void): MenuItem[] {
  return [...items.slice(0, -1), { label: 'Drill now', onSelect }, ...items.slice(-1)];
}
