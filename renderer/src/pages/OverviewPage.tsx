import { useEffect, useState } from 'react';
import { LATENCY_RANGES, latencyRange, type LatencyRange, type Overview, type OverviewDatasource, type OverviewJob } from '../../../shared/schemas/overview.js';
import { isFolder } from '../../../shared/words.js';
import { api } from '../api.js';
import { Chart } from '../components/Chart.js';
import { GaugeIcon } from '../components/icons.js';
import { Card, EmptyState, Loading, LoadFailed, PageHeader, StatusBadge, Size } from '../components/ui.js';
import { bytes, dateTime, duration, fromNow } from '../../../shared/format.js';
import { DATASOURCE_TYPE_ICONS, DATASOURCE_TYPE_LABELS } from '../labels.js';
import { navigate, useRoute } from '../router.js';
import { useStore } from '../store.js';

const seconds = (iso: string) => new Date(iso).getTime() / 1000;
const ms = (v: number) => `${Math.round(v)} ms`;

const RANGE_WORDS: Record<LatencyRange, [short: string, long: string]> = {
  '1h': ['1 h', 'last hour'],
  '24h': ['24 h', 'last 24 hours'],
  '7d': ['7 d', 'last 7 days'],
};

/**
 * The Overview as the store has it (the latency of the last day, or of the last hour on a new
 * install), or over the span the user chose (`#/overview?range=7d`), asked again whenever the store's
 * copy is refreshed by an event.
 */
function useOverview(range: LatencyRange | undefined) {
  const stored = useStore((s) => s.overview);
  const [own, setOwn] = useState<{ range: LatencyRange; data: Overview } | null>(null);
  useEffect(() => {
    if (!range) return;
    let current = true;
    api.run('overview.get', { range }).then(
      (data) => current && setOwn({ range, data }),
      () => undefined,
    );
    return () => void (current = false);
  }, [range, stored.data]);
  return range && own?.range === range ? { ...stored, data: own.data } : stored;
}

/** The landing page: is everything backed up and answering? One card per datasource, then each job's recent runs. */
export function OverviewPage() {
  const asked = latencyRange.safeParse(useRoute().query.get('range'));
  const { data, loading, error } = useOverview(asked.success ? asked.data : undefined);
  const storages = useStore((s) => s.storages.data);
  const load = useStore((s) => s.load);

  // Queries are the truth: the page asks again whenever it is opened.
  useEffect(() => void load('overview'), [load]);

  return (
    <>
      <PageHeader
        title="Overview"
        subtitle="Whether every datasource answers and is backed up, at a glance."
        actions={data && data.datasources.length > 0 && <RangePicker value={asked.success ? asked.data : data.latency_range} />}
      />
      {error && <LoadFailed what="the overview" error={error} retry={() => load('overview')} />}
      {!data && loading && <Loading what="the overview" />}
      {data?.schedules_paused && (
        <div className="banner banner--warn" role="status">
          <div className="banner__body">
            <strong>Schedules are paused</strong>
            <div className="banner__text">
              No job runs by itself until you resume them on the <a href="#/jobs">Backup jobs</a> page.
            </div>
          </div>
        </div>
      )}
      {data && data.datasources.length === 0 && (
        <EmptyState
          icon={<GaugeIcon size={28} />}
          title="Nothing to watch yet"
          action={
            <div className="empty__steps">
              <a className="btn btn--primary" href="#/datasources/new">
                Add a datasource
              </a>
              {(storages?.length ?? 0) === 0 && (
                <a className="btn btn--secondary" href="#/storages/new">
                  Add a storage
                </a>
              )}
            </div>
          }
        >
          Three steps protect a database or a folder: add it as a datasource, add a storage for the copies (a folder, a NAS, S3 or SFTP), then create a backup
          job that says when. This page then shows how each one is doing.
        </EmptyState>
      )}
      {data && data.datasources.length > 0 && (
        <>
          <section className="overview-grid" aria-label="Datasources">
            {data.datasources.map((d) => (
              <DatasourceCard key={d.id} datasource={d} paused={data.schedules_paused} now={data.now} range={data.latency_range} />
            ))}
          </section>
          <h2 className="section-title">Backup jobs: last 30 runs</h2>
          {data.jobs.length === 0 ? (
            <EmptyState
              icon={<GaugeIcon size={28} />}
              title="No backup jobs yet"
              action={
                <a className="btn btn--primary" href="#/jobs/new">
                  Add a backup job
                </a>
              }
            >
              A job backs up a datasource on a schedule. Its sizes and durations appear here after its first runs.
            </EmptyState>
          ) : (
            <section className="overview-grid" aria-label="Backup jobs">
              {data.jobs.map((j) => (
                <JobCard key={j.id} job={j} datasource={data.datasources.find((d) => d.id === j.datasource_id)?.name} />
              ))}
            </section>
          )}
        </>
      )}
    </>
  );
}

/** Which span the latency charts cover. */
function RangePicker({ value }: { value: LatencyRange }) {
  return (
    <div className="segmented" role="radiogroup" aria-label="Latency over the">
      {latencyRange.options.map((r) => (
        <label key={r} className={`segmented__item ${value === r ? 'segmented__item--on' : ''}`} title={RANGE_WORDS[r][1]}>
          <input
            type="radio"
            name="latency-range"
            value={r}
            checked={value === r}
            onChange={() => navigate(`/overview?range=${r}`)}
            aria-label={RANGE_WORDS[r][1]}
          />
          {RANGE_WORDS[r][0]}
        </label>
      ))}
    </div>
  );
}

function DatasourceCard({ datasource: d, paused, now, range }: { datasource: OverviewDatasource; paused: boolean; now: string; range: LatencyRange }) {
  const span = RANGE_WORDS[range][1];
  // A folder's check reads it: its time is how long that took, not a server's answer.
  const checkWord = isFolder(d.type) ? 'Check time' : 'Latency';
  const answered = d.latency.filter((l) => l.ms !== null);
  const failed = d.latency.reduce((n, l) => n + l.failed, 0);
  const next = d.next_run_at ? fromNow(d.next_run_at) : d.jobs === 0 ? 'No job' : paused ? 'Paused' : 'Not scheduled';
  return (
    <Card>
      <article className="ds-card" aria-label={d.name}>
        <div className="ds-card__head">
          <a className="ds-card__name" href={`#/datasources/${d.id}/edit`}>
            {d.name}
          </a>
          <StatusBadge status={d.enabled ? d.status : 'unknown'} label={d.enabled ? undefined : 'disabled'} />
        </div>
        <div className="ds-card__type">
          {DATASOURCE_TYPE_ICONS[d.type]}
          {DATASOURCE_TYPE_LABELS[d.type]}
        </div>
        <dl className="ds-card__facts">
          <div>
            <dt>Last backup</dt>
            <dd title={dateTime(d.last_backup_at)}>{fromNow(d.last_backup_at)}</dd>
          </div>
          <div>
            <dt>Next run</dt>
            <dd title={dateTime(d.next_run_at)}>{next}</dd>
          </div>
          <div>
            <dt>Size</dt>
            <dd>
              {d.size_trend.length > 1 ? (
                <span className="spark">
                  <Chart
                    label={`Backup size of ${d.name}, last ${d.size_trend.length} backups`}
                    sparkline
                    height={28}
                    x={d.size_trend.map((p) => seconds(p.at))}
                    series={[{ label: 'Size', color: '#2f6fdb', format: bytes, values: d.size_trend.map((p) => p.bytes) }]}
                  />
                  <span className="spark__last" title="The latest backup">
                    <Size bytes={d.size_trend.at(-1)?.bytes} />
                  </span>
                </span>
              ) : (
                <Size bytes={d.size_trend[0]?.bytes} />
              )}
            </dd>
          </div>
        </dl>
        {d.jobs === 0 && (
          <p className="ds-card__hint">
            Not backed up: <a href="#/jobs/new">add a backup job</a> for it.
          </p>
        )}
        <div className="ds-card__chart">
          <div className="ds-card__chart-title">
            {checkWord}, {span}
            {failed > 0 && <span className="ds-card__failed">{failed} failed checks</span>}
          </div>
          {d.latency.length ? (
            <Chart
              label={`${checkWord} of ${d.name}, ${span}`}
              height={120}
              xRange={[seconds(now) - LATENCY_RANGES[range].seconds, seconds(now)]}
              x={d.latency.map((p) => seconds(p.at))}
              series={[
                // Failed checks first: a bucket with both keeps its latency visible on top.
                { label: 'Failed checks', color: '#b42318', scale: 'failed', points: true, values: d.latency.map((p) => (p.failed ? p.failed : null)) },
                { label: checkWord, color: '#2f6fdb', unit: 'ms', format: ms, values: d.latency.map((p) => p.ms) },
              ]}
            />
          ) : (
            <p className="muted">
              No health check in the {span}. Press <a href="#/datasources">Check now</a> on the Datasources page to test it.
            </p>
          )}
          {answered.length > 0 && (
            <div className="ds-card__sub">
              Average {ms(answered.reduce((sum, l) => sum + (l.ms ?? 0), 0) / answered.length)}, checked {fromNow(d.last_health_check_at)}
            </div>
          )}
        </div>
      </article>
    </Card>
  );
}

function JobCard({ job: j, datasource }: { job: OverviewJob; datasource: string | undefined }) {
  return (
    <Card>
      <article className="ds-card" aria-label={`Job ${j.name}`}>
        <div className="ds-card__head">
          <a className="ds-card__name" href={`#/activity/job/${j.id}`}>
            {j.name}
          </a>
          {!j.enabled && <StatusBadge status="unknown" label="disabled" />}
        </div>
        <div className="ds-card__type">{datasource ?? 'Deleted datasource'}</div>
        {j.runs.length ? (
          <Chart
            label={`Size and duration of ${j.name}, last ${j.runs.length === 1 ? 'run' : `${j.runs.length} runs`}`}
            height={150}
            x={j.runs.map((r) => seconds(r.at))}
            series={[
              { label: 'Size', color: '#2f6fdb', unit: 'bytes', format: bytes, values: j.runs.map((r) => (r.status === 'completed' ? r.size_bytes : null)) },
              { label: 'Duration', color: '#1b7f4b', scale: 'duration', unit: 'seconds', format: duration, values: j.runs.map((r) => r.duration_seconds) },
              { label: 'Failed', color: '#b42318', scale: 'failed', points: true, values: j.runs.map((r) => (r.status === 'failed' ? 1 : null)) },
            ]}
          />
        ) : (
          <p className="muted">No run yet. It runs on its schedule, or press Run now on the Backup jobs page.</p>
        )}
        {j.drills.length > 0 && (
          <Chart
            label={`Restore time measured by the drills of ${j.name}, last ${j.drills.length === 1 ? 'drill' : `${j.drills.length} drills`}`}
            height={110}
            x={j.drills.map((d) => seconds(d.at))}
            series={[
              {
                label: 'Restore time (drill)',
                color: '#7a4cc2',
                scale: 'duration',
                unit: 'seconds',
                format: duration,
                values: j.drills.map((d) => d.rto_seconds),
              },
              { label: 'Drill failed', color: '#b42318', scale: 'failed', points: true, values: j.drills.map((d) => (d.status === 'failed' ? 1 : null)) },
            ]}
          />
        )}
      </article>
    </Card>
  );
}
