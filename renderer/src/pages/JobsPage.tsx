import { useState } from 'react';
import type { Job } from '../../../shared/schemas/job.js';
import { api } from '../api.js';
import { ClockIcon, PlayIcon } from '../components/icons.js';
import { ListPage } from '../components/ListPage.js';
import { EditAndDelete, EnabledSwitch } from '../components/row-actions.js';
import { Switch } from '../components/fields.js';
import { Button, StatusBadge } from '../components/ui.js';
import { dateTime, fromNow } from '../format.js';
import { navigate } from '../router.js';
import { toast, useStore } from '../store.js';
import { triggerLabel } from '../labels.js';

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
      table={{ label: 'Backup jobs', columns: ['Name', 'Datasource', 'Storages', 'Schedule', 'Next run', 'Last result', 'Enabled'] }}
      Row={JobRow}
      deletion={{
        what: 'backup job',
        consequence: 'It stops running. Backups it already made stay on your storages.',
        remove: (id) => api.call('jobs.delete', { id }),
      }}
    />
  );
}

/** The global switch: while on, no job runs by itself, and what is missed meanwhile is not caught up. */
function PauseSchedules() {
  const settings = useStore((s) => s.settings.data);
  const load = useStore((s) => s.load);
  const [saving, setSaving] = useState(false);
  if (!settings) return null;
  async function toggle(paused: boolean) {
    setSaving(true);
    const result = await api.call('settings.update', { 'schedules.paused': paused });
    setSaving(false);
    if (result.ok) toast('success', paused ? 'Schedules paused: no job runs by itself until you resume' : 'Schedules resumed');
    else toast('error', result.error.message);
    void load('settings');
    void load('jobs');
  }
  return <Switch label="Pause schedules" checked={settings['schedules.paused']} disabled={saving} onChange={toggle} />;
}

function JobRow({ item: j, onDelete }: { item: Job; onDelete(): void }) {
  const allPaused = useStore((s) => s.settings.data?.['schedules.paused'] ?? false);
  const datasources = useStore((s) => s.datasources.data) ?? [];
  const storages = useStore((s) => s.storages.data) ?? [];
  const [running, setRunning] = useState(false);
  const datasource = datasources.find((d) => d.id === j.datasource_id);
  const names = j.storage_location_ids.map((id) => storages.find((s) => s.id === id)?.name ?? 'Deleted storage');

  async function run() {
    setRunning(true);
    const result = await api.call('jobs.run', { id: j.id });
    setRunning(false);
    if (!result.ok) return toast('error', result.error.message);
    // Straight to the execution, where its progress shows live.
    navigate(`/activity/${result.data.execution_id}`);
  }

  return (
    <tr className={j.enabled ? '' : 'table__row--muted'}>
      <td>
        <a className="table__name" href={`#/jobs/${j.id}/edit`}>
          {j.name}
        </a>
        <div className="table__sub">
          {j.last_execution_at ? <a href={`#/activity/job/${j.id}`}>Last run {fromNow(j.last_execution_at).toLowerCase()}</a> : 'Never run'}
        </div>
      </td>
      <td>{datasource?.name ?? <span className="muted">Unknown</span>}</td>
      <td>
        {names.join(' → ')}
        {names.length > 1 && <div className="table__sub">{j.storage_strategy === 'replicate' ? 'Replicated to all' : 'Fallback in this order'}</div>}
      </td>
      <td>
        {j.schedule_description}
        <div className="table__sub mono">{j.schedule_cron}</div>
        <div className="table__sub badges">
          <span className="badge badge--neutral" title="What happens to runs missed while DataGuardian was off or asleep">
            {j.catch_up === 'once' ? 'Catches up once' : 'Skips missed runs'}
          </span>{' '}
          <span className="badge badge--neutral" title="How often a failed scheduled run is tried again">
            {j.max_retries ? `${j.max_retries} ${j.max_retries === 1 ? 'retry' : 'retries'}` : 'No retries'}
          </span>
          {j.jitter_minutes > 0 && <span className="badge badge--neutral">{` up to ${j.jitter_minutes} min later`}</span>}
        </div>
      </td>
      <td title={j.next_execution_at ? dateTime(j.next_execution_at, j.schedule_timezone) : undefined}>
        {!j.enabled ? <span className="muted">Paused</span> : allPaused ? <span className="muted">Schedules paused</span> : fromNow(j.next_execution_at)}
      </td>
      <td>
        {j.last_result ? (
          <a href={`#/activity/${j.last_result.execution_id}`} title={j.last_result.error_message ?? undefined}>
            <StatusBadge status={j.last_result.status} />
            <div className="table__sub">
              {triggerLabel({ operation: 'backup', trigger: j.last_result.trigger, attempt: j.last_result.trigger === 'retry' ? 2 : 1 })}
            </div>
          </a>
        ) : (
          <span className="muted">Never run</span>
        )}
      </td>
      <td>
        <EnabledSwitch name={j.name} enabled={j.enabled} resource="jobs" save={(enabled) => api.call('jobs.update', { id: j.id, enabled })} />
      </td>
      <td className="table__actions">
        <Button size="sm" variant="ghost" busy={running} onClick={run} ariaLabel={`Run ${j.name} now`}>
          <PlayIcon size={14} /> Run now
        </Button>
        <EditAndDelete name={j.name} editPath={`/jobs/${j.id}/edit`} onDelete={onDelete} />
      </td>
    </tr>
  );
}
