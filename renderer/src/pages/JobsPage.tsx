import { useState } from 'react';
import type { Job } from '../../../shared/schemas/job.js';
import { api } from '../api.js';
import { ClockIcon, PlayIcon } from '../components/icons.js';
import { ListPage } from '../components/ListPage.js';
import { EditAndDelete, EnabledSwitch } from '../components/row-actions.js';
import { Button } from '../components/ui.js';
import { dateTime, fromNow } from '../format.js';
import { navigate } from '../router.js';
import { toast, useStore } from '../store.js';

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
      table={{ label: 'Backup jobs', columns: ['Name', 'Datasource', 'Storages', 'Schedule', 'Next run', 'Enabled'] }}
      Row={JobRow}
      deletion={{
        what: 'backup job',
        consequence: 'It stops running. Backups it already made stay on your storages.',
        remove: (id) => api.call('jobs.delete', { id }),
      }}
    />
  );
}

function JobRow({ item: j, onDelete }: { item: Job; onDelete(): void }) {
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
      </td>
      <td title={dateTime(j.next_execution_at, j.schedule_timezone)}>{j.enabled ? fromNow(j.next_execution_at) : <span className="muted">Paused</span>}</td>
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
