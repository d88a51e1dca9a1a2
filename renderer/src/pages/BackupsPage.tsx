import { useCallback, useEffect, useMemo, useState } from 'react';
import type { OutputOf } from '../../../shared/contract.js';
import { backupEncryption } from '../../../shared/schemas/encryption.js';
import type { Verification } from '../../../shared/schemas/execution.js';
import type { BackupEntry } from '../../../shared/schemas/restore.js';
import { api, errorMessage } from '../api.js';
import { SelectField } from '../components/fields.js';
import { BackupDialogs, backupMenuItems, PinBadge, unpinBackup, type BackupDialog } from '../components/backup-actions.js';
import { downloadBackup } from '../components/execution.js';
import { RowActions } from '../components/row-actions.js';
import { ArchiveIcon, ArrowLeftIcon, LockIcon } from '../components/icons.js';
import { DataTable } from '../components/table.js';
import { ServerDatabases } from '../components/server-backups.js';
import { newestHolding, serverOf } from '../server-backups.js';
import { Button, EmptyState, ErrorBanner, Loading, LoadFailed, Modal, PageHeader, StatusBadge, Size } from '../components/ui.js';
import { counted, dateTime, fromNow } from '../../../shared/format.js';
import { DATASOURCE_TYPE_LABELS } from '../labels.js';
import { toast, useStore } from '../store.js';
import { RestoreDialog } from './RestoreDialog.js';
import { shortKey, useEncryption } from '../encryption.js';

type Groups = OutputOf<'backups.datasources'>;
type Details = OutputOf<'backups.datasource'>;

const typeLabel = (t: string) => DATASOURCE_TYPE_LABELS[t as keyof typeof DATASOURCE_TYPE_LABELS] ?? t;

/** Re-queries whenever an execution changes state (a backup, restore or verify finished). */
function useQuery<T>(query: () => Promise<T>): { data: T | null; error: string | null; reload(): void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const executions = useStore((s) => s.executions.data);
  const reload = useCallback(() => {
    query().then(
      (d) => {
        setData(d);
        setError(null);
      },
      (e) => setError(errorMessage(e)),
    );
  }, [query]);
  useEffect(reload, [reload, executions]);
  return { data, error, reload };
}

/** The Backups tab (seed §5): every datasource with completed backups, then one datasource's backups. */
export function BackupsPage({ datasourceId }: { datasourceId?: string | undefined }) {
  return datasourceId ? <DatasourceBackups id={datasourceId} /> : <BackupGroups />;
}

function BackupGroups() {
  const query = useCallback(() => api.run('backups.datasources', {}), []);
  const { data, error, reload } = useQuery<Groups>(query);
  const [importing, setImporting] = useState(false);
  return (
    <>
      <PageHeader
        title="Backups"
        subtitle="What you can restore, per datasource."
        actions={<Button onClick={() => setImporting(true)}>Import from storage</Button>}
      />
      {error && <LoadFailed what="backups" error={error} retry={reload} />}
      {!data && !error && <Loading what="backups" />}
      {data && data.length === 0 && (
        <EmptyState icon={<ArchiveIcon size={28} />} title="No backups yet">
          Completed backups appear here, grouped by datasource. After a reinstall, Import from storage finds the backups already on a storage.
        </EmptyState>
      )}
      {data && data.length > 0 && (
        <DataTable label="Datasources with backups" columns={['Datasource', 'Backups', 'Latest', 'Stored']}>
          {data.map((g) => (
            <tr key={g.datasource_id}>
              <td>
                <a className="table__name" href={`#/backups/${g.datasource_id}`}>
                  {g.datasource_name}
                </a>
                <div className="table__sub">
                  {typeLabel(g.datasource_type)}
                  {!g.configured && ' · not configured here (imported)'}
                </div>
              </td>
              <td>{g.backups_count}</td>
              <td title={dateTime(g.last_backup_at)}>{fromNow(g.last_backup_at)}</td>
              <td>
                <Size bytes={g.total_stored_bytes} />
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      {importing && <ImportDialog onClose={() => setImporting(false)} onDone={reload} />}
    </>
  );
}

/** The lock of an encrypted backup, with the public keys that open it. */
function Encrypted({ backup }: { backup: BackupEntry }) {
  const encryption = backupEncryption.safeParse(backup.metadata?.encryption);
  if (!encryption.success) return null;
  const keys = encryption.data.recipients;
  return (
    <span className="backup-lock" title={`Encrypted with age. Opens with:\n${keys.join('\n')}`} data-testid="backup-lock">
      <LockIcon size={12} /> Encrypted · {keys.map(shortKey).join(', ')}
    </span>
  );
}

function VerificationBadge({ v }: { v: Verification | null }) {
  if (!v) return <span className="muted">Not verified</span>;
  const how = v.method === 'checksum' ? 'checksums' : 'restore test';
  return (
    <span title={`${v.message} (${dateTime(v.at)})`}>
      <StatusBadge status={v.ok ? 'completed' : 'failed'} label={v.ok ? `Verified (${how})` : `Failed ${how}`} />
      <div className="table__sub">{fromNow(v.at)}</div>
    </span>
  );
}

/** Backups shown at first, and added by each "Show older backups" (each one is checked on its storages). */
const BACKUPS_PAGE = 100;

function DatasourceBackups({ id }: { id: string }) {
  const [older, setOlder] = useState<{ rows: BackupEntry[]; end: boolean; loading: boolean }>({ rows: [], end: false, loading: false });
  const query = useCallback(() => {
    setOlder({ rows: [], end: false, loading: false });
    return api.run('backups.datasource', { id, limit: BACKUPS_PAGE });
  }, [id]);
  const { data: newest, error, reload } = useQuery<Details>(query);
  const data = useMemo(() => newest && { ...newest, backups: [...newest.backups, ...older.rows] }, [newest, older.rows]);

  async function showOlder() {
    const last = data?.backups.at(-1);
    if (!last) return;
    setOlder((o) => ({ ...o, loading: true }));
    const page = await api.call('backups.datasource', { id, limit: BACKUPS_PAGE, before: last.id });
    if (page.ok) setOlder((o) => ({ rows: [...o.rows, ...page.data.backups], end: page.data.backups.length < BACKUPS_PAGE, loading: false }));
    else {
      setOlder((o) => ({ ...o, loading: false }));
      toast('error', page.error.message);
    }
  }
  const [restoring, setRestoring] = useState<{ backup: BackupEntry; databases?: string[] | 'all' } | null>(null);
  const wholeServer = data?.backups.some((b) => serverOf(b) !== null) ?? false;
  // One database, several or all of a server, from the newest backup that holds them all.
  function restoreDatabases(databases: string[] | 'all') {
    const from = data && (databases === 'all' ? data.backups.find((b) => serverOf(b) !== null) : newestHolding(data.backups, databases));
    if (from) setRestoring({ backup: from, databases });
    else toast('error', 'No backup shown here holds all of them: restore them one by one, or show older backups');
  }
  const [dialog, setDialog] = useState<BackupDialog>(null);
  const { state: keys } = useEncryption();
  const opensHere = (b: BackupEntry) => {
    const lock = backupEncryption.safeParse(b.metadata?.encryption);
    return lock.success && Boolean(keys?.keys.some((k) => k.opens_backups && lock.data.recipients.includes(k.recipient)));
  };

  const back = (
    <a className="back-link" href="#/backups">
      <ArrowLeftIcon size={14} /> Backups
    </a>
  );
  return (
    <>
      <PageHeader
        title={data?.datasource_name ?? 'Backups'}
        back={back}
        subtitle={
          data
            ? `${typeLabel(data.datasource_type)} · ${counted(data.backups_count, 'backup')}, newest first · copies checked on their storages just now`
            : undefined
        }
        actions={<Button onClick={reload}>Check again</Button>}
      />
      {error && <LoadFailed what="these backups" error={error} retry={reload} />}
      {!data && !error && <Loading what="backups (checking each storage)" />}
      {data && data.backups.length === 0 && (
        <EmptyState icon={<ArchiveIcon size={28} />} title="No completed backups">
          Run a job of this datasource to make one.
        </EmptyState>
      )}
      {data && wholeServer && <ServerDatabases backups={data.backups} onRestore={restoreDatabases} />}
      {data && data.backups.length > 0 && (
        <DataTable label="Backups" columns={['Date', 'Size', 'Copies', 'Verified']} actions>
          {data.backups.map((b) => (
            <tr key={b.id}>
              <td>
                <a className="table__name" href={`#/activity/${b.id}`}>
                  {dateTime(b.finished_at ?? b.created_at)}
                </a>{' '}
                <PinBadge pin={b.pin} />
                <div className="table__sub">{b.job_name ?? 'Imported'}</div>
                <Encrypted backup={b} />
              </td>
              <td>
                <Size bytes={b.compressed_size_bytes} />
              </td>
              <td>
                <ul className="copies" aria-label="Copies">
                  {b.availability.map((a) => (
                    <li key={a.storage_location_id} title={a.message ?? undefined}>
                      <StatusBadge
                        status={a.status === 'available' ? 'completed' : a.status === 'unknown' ? 'unknown' : 'failed'}
                        label={`${a.storage_name}: ${a.status}`}
                      />
                    </li>
                  ))}
                </ul>
              </td>
              <td>
                <VerificationBadge v={b.verification} />
              </td>
              <RowActions
                menu={{
                  label: `More for the backup of ${dateTime(b.finished_at ?? b.created_at)}`,
                  items: [
                    { label: 'Download', onSelect: () => void downloadBackup(b) },
                    // An encrypted backup as stored is an .age file; decrypted, it is the compressed dump the usual tools read.
                    ...(opensHere(b) ? [{ label: 'Download decrypted', onSelect: () => void downloadBackup(b, { decrypt: true }) }] : []),
                    ...backupMenuItems(b, setDialog, () => void unpinBackup(b)),
                  ],
                }}
              >
                <Button
                  size="sm"
                  variant="primary"
                  onClick={() => setRestoring({ backup: b })}
                  ariaLabel={`Restore the backup of ${dateTime(b.finished_at ?? b.created_at)}`}
                >
                  Restore
                </Button>
              </RowActions>
            </tr>
          ))}
        </DataTable>
      )}
      {data && data.backups.length < data.backups_count && !older.end && (
        <div className="list-more">
          <Button variant="ghost" onClick={() => void showOlder()} disabled={older.loading}>
            {older.loading ? 'Checking…' : 'Show older backups'}
          </Button>
        </div>
      )}
      {restoring && data && (
        <RestoreDialog
          backups={data.backups}
          initial={restoring.backup}
          {...(restoring.databases ? { databases: restoring.databases } : {})}
          onClose={() => setRestoring(null)}
        />
      )}
      <BackupDialogs dialog={dialog} onClose={() => setDialog(null)} />
    </>
  );
}

function ImportDialog({ onClose, onDone }: { onClose(): void; onDone(): void }) {
  const storages = useStore((s) => s.storages.data ?? []);
  const [storageId, setStorageId] = useState(storages[0]?.id ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<OutputOf<'storages.import'> | null>(null);
  async function run() {
    setBusy(true);
    setError(null);
    const r = await api.call('storages.import', { id: storageId });
    setBusy(false);
    if (!r.ok) return setError(r.error.message);
    setResult(r.data);
    onDone();
  }
  return (
    <Modal
      title="Import backups from a storage"
      onClose={onClose}
      footer={
        result ? (
          <Button variant="primary" onClick={onClose}>
            Done
          </Button>
        ) : (
          <>
            <Button onClick={onClose}>Cancel</Button>
            <Button variant="primary" busy={busy} disabled={!storageId} onClick={run}>
              Import
            </Button>
          </>
        )
      }
    >
      {storages.length === 0 ? (
        <p>
          Add the storage first (
          <a href="#/storages/new" onClick={onClose}>
            Storage → Add storage
          </a>
          ), pointing at where the backups are.
        </p>
      ) : (
        <div className="form-stack">
          <p>Every backup folder with a manifest.json on the storage is added to the catalog; backups already known are left as they are.</p>
          <SelectField
            id="import-storage"
            label="Storage"
            value={storageId}
            onChange={setStorageId}
            options={storages.map((s) => ({ value: s.id, label: s.name }))}
          />
          {result && (
            <div className="banner banner--ok" role="status">
              <div className="banner__body">
                <strong>
                  {counted(result.added, 'backup')} added, {result.already_known} already known
                </strong>
                <span>
                  {counted(result.manifests_found, 'manifest')} found
                  {result.skipped.length > 0 && `; skipped: ${result.skipped.map((s) => `${s.path} (${s.reason})`).join('; ')}`}
                </span>
              </div>
            </div>
          )}
          {error && <ErrorBanner title="Could not import">{error}</ErrorBanner>}
        </div>
      )}
    </Modal>
  );
}
