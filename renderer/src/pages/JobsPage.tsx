import { useState } from 'react';
import type { Job } from '../../../shared/schemas/job.js';
import { api } from '../api.js';
import { Switch } from '../components/fields.js';
import { ClockIcon, PlayIcon, PlusIcon } from '../components/icons.js';
import { Button, ConfirmDelete, EmptyState, ErrorBanner, Loading, PageHeader } from '../components/ui.js';
import { dateTime, fromNow } from '../format.js';
import { navigate } from '../router.js';
import { toast, useStore } from '../store.js';

export function JobsPage() {
  const { data, loading, error } = useStore((s) => s.jobs);
  const datasources = useStore((s) => s.datasources.data);
  const storages = useStore((s) => s.storages.data);
  const load = useStore((s) => s.load);
  const [deleting, setDeleting] = useState<Job | null>(null);

  const ready = (datasources?.length ?? 0) > 0 && (storages?.length ?? 0) > 0;
  const add = (
    <Button variant="primary" onClick={() => navigate('/jobs/new')}>
      <PlusIcon size={16} /> Add backup job
    </Button>
  );

  return (
    <>
      <PageHeader title="Backup jobs" subtitle="Each job backs up one datasource on a schedule." actions={data?.length ? add : undefined} />
      {error && (
        <ErrorBanner title="Could not load backup jobs" action={<Button onClick={() => load('jobs')}>Try again</Button>}>
          {error}
        </ErrorBanner>
      )}
      {!data && loading && <Loading what="backup jobs" />}
      {data && data.length === 0 && (
        <EmptyState
          icon={<ClockIcon size={28} />}
          title="No backup jobs yet"
          action={
            ready ? (
              add
            ) : (
              <div className="empty__steps">
                {(datasources?.length ?? 0) === 0 && <a className="btn btn--secondary" href="#/datasources/new">Add a datasource</a>}
                {(storages?.length ?? 0) === 0 && <a className="btn btn--secondary" href="#/storages/new">Add a storage</a>}
              </div>
            )
          }
        >
          {ready
            ? 'A job says what to back up, where to keep it, and when. You can run it by hand at any time.'
            : 'A job needs a datasource to back up and a storage to keep the copies. Add those first.'}
        </EmptyState>
      )}
      {data && data.length > 0 && (
        <div className="table-wrap">
          <table className="table" aria-label="Backup jobs">
            <thead>
              <tr>
                <th>Name</th>
                <th>Datasource</th>
                <th>Storages</th>
                <th>Schedule</th>
                <th>Next run</th>
                <th>Enabled</th>
                <th className="table__actions-head">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.map((j) => (
                <JobRow key={j.id} job={j} onDelete={() => setDeleting(j)} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {deleting && (
        <ConfirmDelete
          what="backup job"
          name={deleting.name}
          consequence="It stops running. Backups it already made stay on your storages."
          remove={() => api.call('jobs.delete', { id: deleting.id })}
          onDeleted={() => void load('jobs')}
          onClose={() => setDeleting(null)}
        />
      )}
    </>
  );
}

function JobRow({ job: j, onDelete }: { job: Job; onDelete(): void }) {
  const datasources = useStore((s) => s.datasources.data) ?? [];
  const storages = useStore((s) => s.storages.data) ?? [];
  const load = useStore((s) => s.load);
  const [toggling, setToggling] = useState(false);
  const [running, setRunning] = useState(false);
  const datasource = datasources.find((d) => d.id === j.datasource_id);
  const names = j.storage_location_ids.map((id) => storages.find((s) => s.id === id)?.name ?? 'Deleted storage');

  async function toggle(enabled: boolean) {
    setToggling(true);
    const result = await api.call('jobs.update', { id: j.id, enabled });
    setToggling(false);
    if (result.ok) toast('success', `${j.name} ${enabled ? 'enabled' : 'disabled'}`);
    else toast('error', result.error.message);
    void load('jobs');
  }

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
        <Switch label={`Enabled: ${j.name}`} checked={j.enabled} disabled={toggling} onChange={toggle} />
      </td>
      <td className="table__actions">
        <Button size="sm" variant="ghost" busy={running} onClick={run} ariaLabel={`Run ${j.name} now`}>
          <PlayIcon size={14} /> Run now
        </Button>
        <Button size="sm" variant="ghost" onClick={() => navigate(`/jobs/${j.id}/edit`)} ariaLabel={`Edit ${j.name}`}>
          Edit
        </Button>
        <Button size="sm" variant="ghost" onClick={onDelete} ariaLabel={`Delete ${j.name}`}>
          Delete
        </Button>
      </td>
    </tr>
  );
}
