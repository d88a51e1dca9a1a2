import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { serverBackup, type ExecutionDetails, type ExecutionLog } from '../../../shared/schemas/execution.js';
import { api, errorMessage } from '../api.js';
import type { BackupEntry } from '../../../shared/schemas/restore.js';
import { BackupContents, type ChosenContents } from '../components/backup-contents.js';
import { BackupDialogs, backupMenuItems, PinBadge, unpinBackup, verifyBackup, type BackupDialog } from '../components/backup-actions.js';
import { CancelButton, DownloadButton, isActive, ProgressBar, ratio } from '../components/execution.js';
import { DrillDetails } from '../components/drill.js';
import { RowMenu } from '../components/row-actions.js';
import { ArrowLeftIcon } from '../components/icons.js';
import { DataTable } from '../components/table.js';
import { Button, Card, ErrorBanner, KeyValue, Loading, LoadFailed, PageHeader, Size, StatusBadge } from '../components/ui.js';
import { counted, dateTime, duration, shortDateTime } from '../../../shared/format.js';
import { isFolder } from '../../../shared/words.js';
import { DATASOURCE_TYPE_LABELS, deletedLabel, executionTitle, STORAGE_TYPE_LABELS } from '../labels.js';
import { useStore } from '../store.js';
import { RestoreDialog } from './RestoreDialog.js';

const text = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);
const count = (v: unknown): string | null => (typeof v === 'number' ? v.toLocaleString() : null);

/** One execution: what was backed up, where each copy is, its files and checksums, and the engine's own words. */
export function ExecutionPage({ id }: { id: string }) {
  const [execution, setExecution] = useState<ExecutionDetails | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tab, setTab] = useState<'summary' | 'contents'>('summary');
  /** Files chosen in the Contents tab, to restore. */
  const [chosen, setChosen] = useState<ChosenContents | null>(null);
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
  const restorable = execution.status === 'completed' && execution.operation === 'backup' && !execution.deleted_at;
  // A whole server's backup is browsed one database at a time: those it holds complete.
  const server = serverBackup.safeParse(m.server);
  const serverDatabases = server.success ? server.data.databases.filter((d) => d.status === 'completed').map((d) => d.name) : undefined;
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
            <PinBadge pin={execution.pin} />
          </span>
        }
        actions={
          <>
            {isActive(execution) && <CancelButton execution={execution} />}
            {restorable && <BackupActions backup={execution} onChoose={() => setTab('contents')} />}
          </>
        }
      />

      {restorable && (
        <div className="tabs" role="tablist" aria-label="This backup">
          {(['summary', 'contents'] as const).map((t) => (
            <button key={t} type="button" role="tab" className="tabs__tab" aria-selected={tab === t} onClick={() => setTab(t)}>
              {t === 'summary' ? 'Summary' : 'Contents'}
            </button>
          ))}
        </div>
      )}
      {restorable && tab === 'contents' ? (
        <BackupContents key={execution.id} backupId={execution.id} databases={serverDatabases} onRestore={setChosen} />
      ) : (
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
          {execution.pin && (
            <div className="banner banner--info" role="status">
              Pinned {dateTime(execution.pin.at)}
              {execution.pin.reason ? `: ${execution.pin.reason}` : ''}. Retention never deletes it.
            </div>
          )}
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

          {execution.operation === 'drill' && <DrillDetails execution={execution} />}

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
                    <td>
                      <Size bytes={c.size_bytes} />
                    </td>
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
      )}
      {chosen && (
        <RestoreDialog
          backups={[restoreEntry(execution)]}
          initial={restoreEntry(execution)}
          paths={chosen.paths}
          tables={chosen.tables}
          databases={chosen.database ? [chosen.database] : undefined}
          onClose={() => setChosen(null)}
        />
      )}
    </>
  );
}

/** The restore dialog's view of a backup: its copies as recorded (the Backups tab checks them live). */
function restoreEntry(backup: ExecutionDetails): BackupEntry {
  return {
    ...backup,
    availability: backup.copies
      .filter((c) => c.status === 'completed')
      .map((c) => ({ storage_location_id: c.storage_location_id, storage_name: c.storage_name, status: 'unknown' as const, message: null })),
    verification: null,
  };
}

const link = (id: unknown, label: string) => (typeof id === 'string' ? <a href={`#/activity/${id}`}>{label}</a> : '—');
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

/** What a restore, a verification or a cleanup adds to the summary, in the datasource's words. */
function operationFacts(e: ExecutionDetails): [string, ReactNode][] {
  const m = e.metadata ?? {};
  const folder = isFolder(e.datasource_type);
  if (e.operation === 'restore') {
    const from = m.restored_from as { storage_name?: string } | undefined;
    return [
      ['Restored into', text(m.target) ?? '—'],
      ['From the backup', link(m.source_execution_id, 'open the backup')],
      ['Copy used', from?.storage_name ?? '—'],
      ['Safety backup', m.safety_execution_id ? link(m.safety_execution_id, 'taken before the restore') : m.safety_backup ? '—' : 'Not requested'],
      ...((folder
        ? [
            ['Files restored', count(e.files_count) ?? '—'],
            ['The folder now holds', typeof m.rows_restored === 'number' ? counted(m.rows_restored, 'file') : '—'],
            ['Existing files', m.overwrite ? 'Replaced by the backup’s' : 'Kept (the restore stops at the first one)'],
          ]
        : [
            ['Tables restored', count(m.tables_restored) ?? '—'],
            ['Rows restored', count(m.rows_restored) ?? '—'],
          ]) as [string, ReactNode][]),
      ...(text(m.previous_file) ? ([['Previous file kept as', <span className="mono break">{text(m.previous_file)}</span>]] as [string, ReactNode][]) : []),
    ];
  }
  if (e.operation === 'verify') {
    const v = m.verification as { message?: string; tables?: number | null; rows?: number | null } | undefined;
    return [
      ['Backup checked', link(m.source_execution_id, 'open the backup')],
      ['Method', m.method === 'restore-test' ? `Restore into a scratch ${folder ? 'folder' : 'target'}` : 'Read back every file and check its SHA-256'],
      ['Result', v?.message ?? '—'],
      ...(v?.rows !== null && v?.rows !== undefined
        ? ((folder
            ? [['Files seen', count(v.rows) ?? '—']]
            : [
                ['Tables seen', count(v.tables) ?? '—'],
                ['Rows seen', count(v.rows) ?? '—'],
              ]) as [string, ReactNode][])
        : []),
    ];
  }
  if (e.operation === 'drill') {
    const seconds = (v: unknown) => (typeof v === 'number' ? duration(v) : '—');
    return [
      ['Backup drilled', link(m.source_execution_id, 'open the backup')],
      ['A full restore took', m.write_only ? 'Not restored (write-only mode: checksums only)' : seconds(m.rto_seconds)],
      ['The backup’s age (RPO)', seconds(m.rpo_seconds)],
      ['Scratch target', text(m.scratch) ?? '—'],
    ];
  }
  if (e.operation === 'cleanup') {
    const listed = (v: unknown) => (Array.isArray(v) ? (v as { execution_id?: string; started_at?: string; reason?: string }[]) : []);
    const backups = (list: ReturnType<typeof listed>) =>
      list.length ? (
        <ul className="plain-list">
          {list.map((d, i) => (
            <li key={d.execution_id ?? i}>{link(d.execution_id, shortDateTime(d.started_at))}</li>
          ))}
        </ul>
      ) : (
        'Nothing'
      );
    const gone = listed(m.deleted);
    const would = listed(m.would_delete);
    return [
      ['Why', m.backup_ids ? 'Deleted by hand' : e.trigger === 'schedule' ? 'The daily cleanup (04:00)' : 'After a backup of the job'],
      ['Deleted', backups(gone)],
      ...(would.length ? ([['Would delete (automatic deletion is off)', backups(would)]] as [string, ReactNode][]) : []),
      ['Reason', gone[0]?.reason ?? would[0]?.reason ?? '—'],
      ['Space freed', <Size bytes={num(m.bytes_freed)} />],
      ['Backups kept', count(m.kept) ?? '—'],
    ];
  }
  return m.verification ? [['Last verification', (m.verification as { message?: string }).message ?? '—']] : [];
}

/** What a backup produced: sizes, compression, checksum, and what it holds in the datasource's words. */
function backupFacts(e: ExecutionDetails): [string, ReactNode][] {
  const m = e.metadata ?? {};
  const holds: [string, ReactNode][] = isFolder(e.datasource_type)
    ? [['Files', count(e.files_count ?? m.files_count) ?? '—']]
    : [
        ['Database version', text(m.database_version) ?? '—'],
        ['Tables', count(m.tables_backed_up) ?? '—'],
        ['Rows (approximate)', count(m.rows_approximate) ?? '—'],
      ];
  return [
    ['Size before compression', <Size bytes={e.size_bytes} />],
    ['Size stored', <Size bytes={e.compressed_size_bytes} />],
    [
      'Compression',
      `${text(m.compression) ?? '—'}${typeof m.compression_level === 'number' ? `, level ${m.compression_level}` : ''}${ratio(e) ? ` · ${ratio(e)}` : ''}`,
    ],
    ['Checksum', text(m.checksum) ? <span className="mono break">{text(m.checksum)}</span> : '—'],
    ...holds,
  ];
}

/** What can be done with a backup from its own page: restore it, verify it, download it, and behind "⋯" the rest. */
function BackupActions({ backup, onChoose }: { backup: ExecutionDetails; onChoose(): void }) {
  const [restoring, setRestoring] = useState(false);
  const [dialog, setDialog] = useState<BackupDialog>(null);
  const [verifying, setVerifying] = useState(false);
  const entry = restoreEntry(backup);
  return (
    <>
      <Button variant="primary" onClick={() => setRestoring(true)}>
        Restore…
      </Button>
      <Button
        busy={verifying}
        onClick={async () => {
          setVerifying(true);
          await verifyBackup(backup, 'checksum');
          setVerifying(false);
        }}
      >
        Verify
      </Button>
      <DownloadButton execution={backup} />
      <RowMenu
        inHeader
        label="More for this backup"
        items={backupMenuItems(backup, setDialog, () => void unpinBackup(backup)).filter((i) => i.label !== 'Verify checksums')}
      />
      {restoring && (
        <RestoreDialog
          backups={[entry]}
          initial={entry}
          onClose={() => setRestoring(false)}
          onChoose={() => {
            setRestoring(false);
            onChoose();
          }}
        />
      )}
      <BackupDialogs dialog={dialog} onClose={() => setDialog(null)} />
    </>
  );
}
