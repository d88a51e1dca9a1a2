import { useMemo } from 'react';
import { EXECUTION_STATUSES } from '../../../shared/schemas/enums.js';
import { CancelButton, DownloadButton, isActive, ProgressBar, ratio } from '../components/execution.js';
import { ActivityIcon } from '../components/icons.js';
import { DataTable } from '../components/table.js';
import { Button, EmptyState, Loading, LoadFailed, PageHeader, StatusBadge } from '../components/ui.js';
import { bytes, dateTime, duration, fromNow } from '../format.js';
import { deletedLabel, executionTitle, triggerLabel } from '../labels.js';
import { navigate, useRoute } from '../router.js';
import { useStore } from '../store.js';

/** Every backup run, newest first; `jobId` narrows it to one job (`#/activity/job/<id>`). */
export function ExecutionsPage({ jobId }: { jobId?: string | undefined }) {
  const { data: newest, loading, error } = useStore((s) => s.executions);
  const older = useStore((s) => s.olderExecutions);
  const loadOlder = useStore((s) => s.loadOlderExecutions);
  const jobs = useStore((s) => s.jobs.data);
  const load = useStore((s) => s.load);
  const status = useRoute().query.get('status') ?? '';

  // The newest page is refreshed live and may now hold rows loaded before as older ones.
  const data = useMemo(() => {
    if (!newest) return undefined;
    const seen = new Set(newest.map((e) => e.id));
    return [...newest, ...older.rows.filter((e) => !seen.has(e.id))];
  }, [newest, older.rows]);
  const shown = useMemo(() => (data ?? []).filter((e) => (!jobId || e.job_id === jobId) && (!status || e.status === status)), [data, jobId, status]);
  const filter = (job: string, st: string) => navigate(`/activity${job ? `/job/${job}` : ''}${st ? `?status=${st}` : ''}`);

  return (
    <>
      <PageHeader title="Activity" subtitle="Every backup, restore and verification, newest first." />
      <div className="filters" role="group" aria-label="Filter activity">
        <label className="filters__item">
          <span>Job</span>
          <select className="input select" aria-label="Job" value={jobId ?? ''} onChange={(e) => filter(e.target.value, status)}>
            <option value="">All jobs</option>
            {jobs?.map((j) => (
              <option key={j.id} value={j.id}>
                {j.name}
              </option>
            ))}
          </select>
        </label>
        <label className="filters__item">
          <span>Status</span>
          <select className="input select" aria-label="Status" value={status} onChange={(e) => filter(jobId ?? '', e.target.value)}>
            <option value="">Any status</option>
            {EXECUTION_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.charAt(0).toUpperCase() + s.slice(1)}
              </option>
            ))}
          </select>
        </label>
      </div>
      {error && <LoadFailed what="the activity" error={error} retry={() => load('executions')} />}
      {!data && loading && <Loading what="the activity" />}
      {data && shown.length === 0 && (
        <EmptyState icon={<ActivityIcon size={28} />} title={data.length ? 'No backup matches' : 'No backups yet'}>
          {data.length
            ? 'Choose another job or status above.'
            : 'Backups appear here as soon as a job runs: on its schedule, or when you press Run now on the Backup jobs page.'}
        </EmptyState>
      )}
      {shown.length > 0 && (
        <DataTable label="Activity" columns={['Job', 'Status', 'Started by', 'Started', 'Duration', 'Size']} actions>
          {shown.map((e) => (
            <tr key={e.id}>
              <td>
                <a className="table__name" href={`#/activity/${e.id}`}>
                  {executionTitle(e)}
                </a>
                <div className="table__sub">{e.datasource_name ?? 'Deleted datasource'}</div>
              </td>
              <td className="table__status">
                <StatusBadge status={e.status} />
                {isActive(e) ? (
                  <ProgressBar execution={e} compact />
                ) : deletedLabel(e) ? (
                  <div className="table__sub">{deletedLabel(e)}</div>
                ) : (
                  e.error_message && <div className="table__sub table__sub--wrap">{e.error_message}</div>
                )}
              </td>
              <td data-trigger={e.trigger}>
                {triggerLabel(e)}
                {e.scheduled_for && <div className="table__sub">for {dateTime(e.scheduled_for)}</div>}
              </td>
              <td title={dateTime(e.started_at ?? e.created_at)}>{fromNow(e.started_at ?? e.created_at)}</td>
              <td>{duration(e.duration_seconds)}</td>
              <td>
                {bytes(e.compressed_size_bytes)}
                {ratio(e) && <div className="table__sub">{ratio(e)}</div>}
              </td>
              <td className="table__actions">
                {isActive(e) && <CancelButton execution={e} size="sm" />}
                {e.status === 'completed' && e.operation === 'backup' && !e.deleted_at && <DownloadButton execution={e} size="sm" />}
                <Button size="sm" variant="ghost" onClick={() => navigate(`/activity/${e.id}`)} ariaLabel={`Details of ${e.job_name ?? 'backup'} ${e.id}`}>
                  Details
                </Button>
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      {data && data.length >= 200 && !older.end && (
        <div className="list-more">
          <Button variant="ghost" onClick={() => void loadOlder()} disabled={older.loading}>
            {older.loading ? 'Loading…' : 'Show older runs'}
          </Button>
        </div>
      )}
    </>
  );
}
