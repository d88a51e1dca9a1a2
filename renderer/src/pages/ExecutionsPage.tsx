import { Fragment, useMemo, useState } from 'react';
import type { Execution } from '../../../shared/schemas/execution.js';
import { EXECUTION_STATUSES } from '../../../shared/schemas/enums.js';
import { dateTime, duration, fromNow } from '../../../shared/format.js';
import { ACTIVITY_KIND_LABELS, ACTIVITY_KINDS, activityLines, followUpWords, type ActivityGroup, type ActivityKind } from '../activity.js';
import { CancelButton, isActive, ProgressBar, ratio } from '../components/execution.js';
import { ActivityIcon } from '../components/icons.js';
import { DataTable } from '../components/table.js';
import { Button, EmptyState, Loading, LoadFailed, PageHeader, Size, StatusBadge } from '../components/ui.js';
import { deletedLabel, executionTitle, triggerLabel } from '../labels.js';
import { navigate, useRoute } from '../router.js';
import { useStore } from '../store.js';

const isKind = (v: string | null): v is ActivityKind => (ACTIVITY_KINDS as readonly (string | null)[]).includes(v);

/**
 * Every run, newest first, a backup on one line with what followed it (its verification, its cleanup),
 * which opens to show them; `jobId` narrows it to one job (`#/activity/job/<id>`), the filters to a
 * kind of run and a status.
 */
export function ExecutionsPage({ jobId }: { jobId?: string | undefined }) {
  const { data: newest, loading, error } = useStore((s) => s.executions);
  const older = useStore((s) => s.olderExecutions);
  const loadOlder = useStore((s) => s.loadOlderExecutions);
  const jobs = useStore((s) => s.jobs.data);
  const load = useStore((s) => s.load);
  const { query } = useRoute();
  const status = query.get('status') ?? '';
  const kindParam = query.get('kind');
  const kind = isKind(kindParam) ? kindParam : null;
  const [open, setOpen] = useState<Set<string>>(new Set());

  // The newest page is refreshed live and may now hold rows loaded before as older ones.
  const data = useMemo(() => {
    if (!newest) return undefined;
    const seen = new Set(newest.map((e) => e.id));
    return [...newest, ...older.rows.filter((e) => !seen.has(e.id))];
  }, [newest, older.rows]);
  // Every run is loaded once the newest page is not full, or the older pages have run out.
  const complete = (newest?.length ?? 0) < 200 || older.end;
  const shown = useMemo(
    () =>
      activityLines(
        (data ?? []).filter((e) => !jobId || e.job_id === jobId),
        kind,
        complete,
      ).filter((g) => !status || g.run.status === status),
    [data, jobId, kind, status, complete],
  );
  const filter = (job: string, k: string, st: string) => {
    const q = new URLSearchParams({ ...(k ? { kind: k } : {}), ...(st ? { status: st } : {}) }).toString();
    navigate(`/activity${job ? `/job/${job}` : ''}${q ? `?${q}` : ''}`);
  };
  const toggle = (id: string) =>
    setOpen((o) => {
      const next = new Set(o);
      if (!next.delete(id)) next.add(id);
      return next;
    });

  return (
    <>
      <PageHeader
        title="Activity"
        subtitle="Every backup, restore, verification and cleanup, newest first. A backup's verification and cleanup are on its line."
      />
      <div className="filters" role="group" aria-label="Filter activity">
        <label className="filters__item">
          <span>Job</span>
          <select className="input select" aria-label="Job" value={jobId ?? ''} onChange={(e) => filter(e.target.value, kind ?? '', status)}>
            <option value="">All jobs</option>
            {jobs?.map((j) => (
              <option key={j.id} value={j.id}>
                {j.name}
              </option>
            ))}
          </select>
        </label>
        <label className="filters__item">
          <span>Kind</span>
          <select className="input select" aria-label="Kind" value={kind ?? ''} onChange={(e) => filter(jobId ?? '', e.target.value, status)}>
            <option value="">Every kind</option>
            {ACTIVITY_KINDS.map((k) => (
              <option key={k} value={k}>
                {ACTIVITY_KIND_LABELS[k]}
              </option>
            ))}
          </select>
        </label>
        <label className="filters__item">
          <span>Status</span>
          <select className="input select" aria-label="Status" value={status} onChange={(e) => filter(jobId ?? '', kind ?? '', e.target.value)}>
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
        <EmptyState icon={<ActivityIcon size={28} />} title={data.length ? 'Nothing matches' : 'No backups yet'}>
          {data.length
            ? older.end
              ? 'Choose another job, kind or status above.'
              : 'Nothing among the runs loaded so far: choose another filter, or show older runs below.'
            : 'Backups appear here as soon as a job runs: on its schedule, or when you press Run now on the Backup jobs page.'}
        </EmptyState>
      )}
      {shown.length > 0 && (
        <DataTable label="Activity" columns={['Run', 'Status', 'Started by', 'Started', 'Duration', 'Size']} actions>
          {shown.map((g) => (
            <Fragment key={g.run.id}>
              <RunRow execution={g.run} group={g} open={open.has(g.run.id)} onToggle={() => toggle(g.run.id)} />
              {open.has(g.run.id) && g.followUps.map((f) => <RunRow key={f.id} execution={f} child />)}
            </Fragment>
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

/** One run: its line in Activity, or (`child`) a follow-up shown under its run. */
function RunRow({
  execution: e,
  group,
  open,
  onToggle,
  child,
}: {
  execution: Execution;
  group?: ActivityGroup;
  open?: boolean;
  onToggle?(): void;
  child?: boolean;
}) {
  const followUps = group?.followUps ?? [];
  const title = executionTitle(e);
  return (
    <tr className={child ? 'table__row--child' : undefined}>
      <td>
        <div className="run-name">
          {followUps.length > 0 ? (
            <button
              type="button"
              className="disclosure"
              aria-expanded={open}
              aria-label={`${open ? 'Hide' : 'Show'} what followed: ${title}`}
              title={open ? 'Hide what followed' : 'Show what followed'}
              onClick={onToggle}
            >
              <span aria-hidden="true">{open ? '▾' : '▸'}</span>
            </button>
          ) : (
            <span className="disclosure disclosure--none" aria-hidden="true">
              {child ? '↳' : ''}
            </span>
          )}
          <div>
            <a className="table__name" href={`#/activity/${e.id}`}>
              {child ? followUpTitle(e) : title}
            </a>
            {!child && <div className="table__sub">{e.datasource_name ?? 'Deleted datasource'}</div>}
          </div>
        </div>
      </td>
      <td className="table__status">
        <StatusBadge status={e.status} />
        {followUps.length > 0 && (
          <div className="follow-ups">
            {followUps.map((f) => {
              const w = followUpWords(f);
              return (
                <span key={f.id} className={`follow-up follow-up--${w.tone}`}>
                  {w.text}
                </span>
              );
            })}
          </div>
        )}
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
        <span className="nowrap">{e.operation === 'backup' ? <Size bytes={e.compressed_size_bytes} /> : <span className="muted">—</span>}</span>
        {e.operation === 'backup' && ratio(e) && <div className="table__sub">{ratio(e)}</div>}
      </td>
      <td className="table__actions">
        <div className="row-actions">
          {isActive(e) && <CancelButton execution={e} size="sm" />}
          <Button
            size="sm"
            variant="ghost"
            onClick={() => navigate(`/activity/${e.id}`)}
            ariaLabel={`Details: ${title}, ${dateTime(e.started_at ?? e.created_at)}`}
          >
            Details
          </Button>
        </div>
      </td>
    </tr>
  );
}

/** A follow-up under its run, which already names the job. */
function followUpTitle(e: Execution): string {
  if (e.operation === 'verify') return e.metadata?.method === 'restore-test' ? 'Test restore' : 'Verify (checksum)';
  if (e.operation === 'cleanup') return 'Cleanup';
  return 'Safety backup';
}
