import { useCallback, useEffect, useState, type ReactNode } from 'react';
import type { ExecutionDetails, ExecutionLog } from '../../../shared/schemas/execution.js';
import { api, errorMessage } from '../api.js';
import { CancelButton, DownloadButton, isActive, ProgressBar, ratio } from '../components/execution.js';
import { ArrowLeftIcon } from '../components/icons.js';
import { DataTable } from '../components/table.js';
import { Card, ErrorBanner, KeyValue, Loading, LoadFailed, PageHeader, StatusBadge } from '../components/ui.js';
import { bytes, dateTime, duration } from '../format.js';
import { DATASOURCE_TYPE_LABELS, deletedLabel, executionTitle, STORAGE_TYPE_LABELS } from '../labels.js';
import { useStore } from '../store.js';

const text = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);
const count = (v: unknown): string | null => (typeof v === 'number' ? v.toLocaleString() : null);

/** One execution: what was backed up, where each copy is, its files and checksums, and the engine's own words. */
export function ExecutionPage({ id }: { id: string }) {
  const [execution, setExecution] = useState<ExecutionDetails | null>(null);
  const [error, setError] = useState<string | null>(null);
  // The list in the store changes on every status event: re-query the details then.
  const listed = useStore((s) => s.executions.data?.find((e) => e.id === id));

  const load = useCallback(async () => {
    try {
      setExecution(await api.run('executions.get', { id }));
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    }
  }, [id]);
  useEffect(() => void load(), [load, listed?.status]);

  const back = (
    <a className="back-link" href="#/activity">
      <ArrowLeftIcon size={14} /> Activity
    </a>
  );
  if (!execution) {
    return (
      <>
        <PageHeader title="Backup" back={back} />
        {error ? <LoadFailed what="this backup" error={error} retry={load} /> : <Loading what="the backup" />}
      </>
    );
  }

  const m = execution.metadata ?? {};
  const logs = (Array.isArray(m.execution_logs) ? m.execution_logs : []) as ExecutionLog[];
  const engineOutput = text(m.engine_output);
  const type = execution.datasource_type as keyof typeof DATASOURCE_TYPE_LABELS | null;
  const title = executionTitle(execution);
  // While it runs most facts are not known yet: show the ones that are.
  const summary = (items: [string, ReactNode][]) => (isActive(execution) ? items.filter(([, v]) => v !== '—') : items);

  return (
    <>
      <PageHeader
        title={title}
        back={back}
        subtitle={
          <span className="subtitle-facts">
            <StatusBadge status={execution.status} />
            <span>Started {dateTime(execution.started_at ?? execution.created_at)}</span>
          </span>
        }
        actions={
          <>
            {isActive(execution) && <CancelButton execution={execution} />}
            {execution.status === 'completed' && execution.operation === 'backup' && !execution.deleted_at && <DownloadButton execution={execution} />}
          </>
        }
      />

      <div className="stack">
        {isActive(execution) && (
          <Card title={execution.status === 'queued' ? 'Waiting to start' : 'In progress'}>
            <ProgressBar execution={execution} />
          </Card>
        )}

        {execution.status === 'failed' && (
          <ErrorBanner title={`The ${execution.operation} failed`}>
            {execution.error_message}
            {execution.error_stack && (
              <details className="details">
                <summary>Technical details</summary>
                <pre className="output">{execution.error_stack}</pre>
              </details>
            )}
          </ErrorBanner>
        )}
        {execution.status === 'completed' && execution.error_message && <div className="banner banner--warn">{execution.error_message}</div>}
        {execution.deleted_at && (
          <div className="banner banner--info" role="status">
            {deletedLabel(execution)}: its files are gone from every storage; this record of the run stays.{' '}
            {execution.deleted_by && <a href={`#/activity/${execution.deleted_by.execution_id}`}>Open the cleanup</a>}
          </div>
        )}

        <Card title="Summary">
          <KeyValue
            items={summary([
              ...operationFacts(execution),
              [
                'Datasource',
                `${execution.datasource_name ?? 'Deleted datasource'}${type && DATASOURCE_TYPE_LABELS[type] ? ` (${DATASOURCE_TYPE_LABELS[type]})` : ''}`,
              ],
              ['Started', dateTime(execution.started_at)],
              ['Finished', dateTime(execution.finished_at)],
              ['Duration', duration(execution.duration_seconds)],
              ...(execution.operation !== 'backup' ? [] : backupFacts(execution)),
            ])}
          />
        </Card>

        {execution.copies.length > 0 && (
          <Card title="Copies" description="Where this backup is kept. Each folder holds the backup's files and a manifest.json.">
            <DataTable label="Copies" columns={['Storage', 'Status', 'Folder']} flat>
              {execution.copies.map((c) => (
                <tr key={c.storage_location_id}>
                  <td>
                    {c.storage_name}
                    <div className="table__sub">{STORAGE_TYPE_LABELS[c.storage_type as keyof typeof STORAGE_TYPE_LABELS] ?? c.storage_type}</div>
                  </td>
                  <td>
                    <StatusBadge status={c.status} />
                    {c.error_message && <div className="table__sub table__sub--wrap">{c.error_message}</div>}
                  </td>
                  <td className="mono break">{c.backup_path ?? '—'}</td>
                </tr>
              ))}
            </DataTable>
          </Card>
        )}

        {execution.chunks.length > 0 && (
          <Card title="Files" description="Join them in order with cat to get the backup file; sha256sum checks each one.">
            <DataTable label="Files" columns={['#', 'File', 'Size', 'SHA-256']} flat>
              {execution.chunks.map((c) => (
                <tr key={c.chunk_number}>
                  <td>{c.chunk_number}</td>
                  <td className="mono break">{c.file_path.split('/').pop()}</td>
                  <td>{bytes(c.size_bytes)}</td>
                  <td className="mono break">{c.checksum}</td>
                </tr>
              ))}
            </DataTable>
          </Card>
        )}

        {logs.length > 0 && (
          <Card title="Log">
            <ol className="log" aria-label="Log">
              {logs.map((l, i) => (
                <li key={i} className={`log__line log__line--${l.level}`}>
                  <time dateTime={l.at}>{new Date(l.at).toLocaleTimeString()}</time>
                  <span>{l.message}</span>
                </li>
              ))}
            </ol>
          </Card>
        )}

        {engineOutput && (
          <Card title="Engine output" description="What the dump tool printed.">
            <pre className="output">{engineOutput}</pre>
          </Card>
        )}
      </div>
    </>
  );
}

const link = (id: unknown, label: string) => (typeof id === 'string' ? <a href={`#/activity/${id}`}>{label}</a> : '—');

/** What a restore, a verification or a cleanup adds to the summary. */
function operationFacts(e: ExecutionDetails): [string, ReactNode][] {
  const m = e.metadata ?? {};
  if (e.operation === 'restore') {
    const from = m.restored_from as { storage_name?: string } | undefined;
    return [
      ['Restored into', text(m.target) ?? '—'],
      ['From the backup', link(m.source_execution_id, 'open the backup')],
      ['Copy used', from?.storage_name ?? '—'],
      ['Safety backup', m.safety_execution_id ? link(m.safety_execution_id, 'taken before the restore') : m.safety_backup ? '—' : 'Not requested'],
      ['Tables restored', count(m.tables_restored) ?? '—'],
      ['Rows restored', count(m.rows_restored) ?? '—'],
      ...(text(m.previous_file) ? ([['Previous file kept as', <span className="mono break">{text(m.previous_file)}</span>]] as [string, ReactNode][]) : []),
    ];
  }
  if (e.operation === 'verify') {
    const v = m.verification as { message?: string; tables?: number | null; rows?: number | null } | undefined;
    return [
      ['Backup checked', link(m.source_execution_id, 'open the backup')],
      ['Method', m.method === 'restore-test' ? 'Restore into a scratch target' : 'Read back every file and check its SHA-256'],
      ['Result', v?.message ?? '—'],
      ...(v?.tables !== null && v?.tables !== undefined
        ? ([
            ['Tables seen', count(v.tables) ?? '—'],
            ['Rows seen', count(v.rows) ?? '—'],
          ] as [string, ReactNode][])
        : []),
    ];
  }
  if (e.operation === 'cleanup') {
    const listed = (v: unknown) => (Array.isArray(v) ? (v as { started_at?: string; reason?: string }[]) : []);
    const gone = listed(m.deleted);
    const would = listed(m.would_delete);
    return [
      ['Why', m.backup_ids ? 'Deleted by hand' : e.trigger === 'schedule' ? 'The daily cleanup (04:00)' : 'After a backup of the job'],
      ['Deleted', gone.length ? gone.map((d) => d.started_at ?? '').join(', ') : 'Nothing'],
      ...(would.length ? ([['Would delete (automatic deletion is off)', would.map((d) => d.started_at ?? '').join(', ')]] as [string, ReactNode][]) : []),
      ['Reason', gone[0]?.reason ?? would[0]?.reason ?? '—'],
      ['Space freed', count(m.bytes_freed) ?? '—'],
      ['Backups kept', count(m.kept) ?? '—'],
    ];
  }
  return m.verification ? [['Last verification', (m.verification as { message?: string }).message ?? '—']] : [];
}

/** What a backup produced: sizes, compression, checksum, and what the server said it held. */
function backupFacts(e: ExecutionDetails): [string, ReactNode][] {
  const m = e.metadata ?? {};
  return [
    ['Size before compression', bytes(e.size_bytes)],
    ['Size stored', bytes(e.compressed_size_bytes)],
    [
      'Compression',
      `${text(m.compression) ?? '—'}${typeof m.compression_level === 'number' ? `, level ${m.compression_level}` : ''}${ratio(e) ? ` · ${ratio(e)}` : ''}`,
    ],
    ['Checksum', text(m.checksum) ? <span className="mono break">{text(m.checksum)}</span> : '—'],
    ['Database version', text(m.database_version) ?? '—'],
    ...((e.files_count !== null
      ? [['Files', e.files_count.toLocaleString()]]
      : [
          ['Tables', count(m.tables_backed_up) ?? '—'],
          ['Rows (approximate)', count(m.rows_approximate) ?? '—'],
        ]) as [string, ReactNode][]),
  ];
}
