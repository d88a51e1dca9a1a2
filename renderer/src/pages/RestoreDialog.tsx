import { serverBackup } from '../../../shared/schemas/execution.js';
import { useState } from 'react';
import type { BackupEntry } from '../../../shared/schemas/restore.js';
import { api } from '../api.js';
import { BrowseButton } from '../components/ConfigFields.js';
import { backupEncryption } from '../../../shared/schemas/encryption.js';
import { Checkbox, SelectField, TextArea, TextField } from '../components/fields.js';
import { useEncryption } from '../encryption.js';
import { Button, ErrorBanner, Modal } from '../components/ui.js';
import { bytes, counted, dateTime, duration, fromNow } from '../../../shared/format.js';
import { DATASOURCE_TYPE_LABELS, datasourceWhere } from '../labels.js';
import { navigate } from '../router.js';
import { useStore, watchRun } from '../store.js';

type TargetKind = 'original' | 'other' | 'new_database' | 'path';

const family = (t: string) => (t === 'mariadb' ? 'mysql' : t);
const DATABASE_TYPES = ['postgres', 'mysql', 'mariadb'];
/** Backups whose Contents list tables that restore one by one. */
const TABLE_TYPES = [...DATABASE_TYPES, 'sqlite'];

/**
 * One dialog for a restore: which backup, which copy, where to, a safety backup first, and — when the
 * restore replaces data — typing the target's name to confirm. The restore then shows in Activity.
 */
export function RestoreDialog({
  backups,
  initial,
  onClose,
  paths,
  tables,
  onChoose,
  databases,
}: {
  backups: BackupEntry[];
  initial: BackupEntry;
  onClose(): void;
  /** Files and folders chosen in the backup's Contents: only they are restored. */
  paths?: string[];
  /** Tables chosen in a database backup's Contents: only they are restored, with what they need. */
  tables?: string[];
  /** Opens the backup's Contents to choose what to restore (a folder's files, a database's tables). */
  onChoose?: () => void;
  /** Of a whole server's backup: the databases chosen on the Backups tab (one, several, or all). */
  databases?: string[] | 'all';
}) {
  const datasources = useStore((s) => s.datasources.data ?? []);
  const [backupId, setBackupId] = useState(initial.id);
  const backup = backups.find((b) => b.id === backupId) ?? initial;
  const type = backup.datasource_type ?? '';
  const own = datasources.find((d) => d.id === backup.datasource_id);
  const candidates = datasources.filter((d) => family(d.type) === family(type) && d.id !== own?.id);
  // Chosen files go into a folder the user picks, never over the source unless asked.
  // Chosen tables go into a new database (or file) by default: the original is replaced only when asked.
  const [kind, setKindOnly] = useState<TargetKind>(
    paths && own ? 'path' : tables && own ? (DATABASE_TYPES.includes(type) ? 'new_database' : 'path') : own ? 'original' : 'other',
  );
  const [storageId, setStorageId] = useState('');
  const [otherId, setOtherId] = useState(candidates[0]?.id ?? '');
  const [database, setDatabase] = useState('');
  const [targetPath, setTargetPath] = useState('');
  const [safety, setSafety] = useState(true);
  // A folder restored where it came from replaces its files (after the safety backup): off, the restore would
  // stop at the first file, which is there.
  const [overwrite, setOverwrite] = useState(own !== undefined && type === 'files' && !paths);
  const setKind = (k: TargetKind) => {
    setKindOnly(k);
    setOverwrite(type === 'files' && k !== 'path');
  };
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [identity, setIdentity] = useState('');
  const [keyAsked, setKeyAsked] = useState(false);
  const { state: encryption } = useEncryption();
  const lockedTo = backupEncryption.safeParse(backup.metadata?.encryption);
  // An encrypted backup that none of this app's keys opens (write-only, or made elsewhere): the recovery key, for this restore only.
  const needsKey =
    lockedTo.success && (keyAsked || (encryption !== null && !encryption.keys.some((k) => k.opens_backups && lockedTo.data.recipients.includes(k.recipient))));

  const isDatabase = DATABASE_TYPES.includes(type);
  const chosenItems = paths ?? tables;
  // A whole server's backup: which of its databases (all: the roles and grants first).
  const parsedServer = serverBackup.safeParse((backup.metadata as { server?: unknown } | null)?.server);
  const server = parsedServer.success ? parsedServer.data : undefined;
  const restorable = server?.databases.filter((d) => d.status === 'completed') ?? [];
  // '*' all, '+' the several chosen, else one database's name.
  const chosen = Array.isArray(databases) && databases.length > 1 ? databases : null;
  const [which, setWhich] = useState(chosen ? '+' : Array.isArray(databases) && databases[0] ? databases[0] : '*');
  const target = kind === 'other' ? datasources.find((d) => d.id === otherId) : own;
  // Replacing a datasource's data: the original or another datasource as configured.
  const destructive = kind === 'original' || kind === 'other';
  const confirmName = target?.name ?? '';
  const confirmed = !destructive || typed.trim() === confirmName;
  const where = target ? datasourceWhere(target.type, target.connection_config) : '';

  const kinds: { value: TargetKind; label: string }[] = [
    ...(own ? [{ value: 'original' as const, label: `${own.name}, where it came from (${datasourceWhere(own.type, own.connection_config)})` }] : []),
    ...(candidates.length ? [{ value: 'other' as const, label: 'Another datasource' }] : []),
    ...(isDatabase && own ? [{ value: 'new_database' as const, label: 'A new database on the same server' }] : []),
    ...(!isDatabase && own ? [{ value: 'path' as const, label: type === 'files' ? 'Another folder' : 'Another file' }] : []),
  ];

  async function submit() {
    setBusy(true);
    setError(null);
    setFieldErrors({});
    const result = await api.call('backups.restore', {
      id: backup.id,
      storage_location_id: storageId || null,
      target_datasource_id: kind === 'other' ? otherId : null,
      target_database: kind === 'new_database' ? database : null,
      target_path: kind === 'path' ? targetPath : null,
      safety_backup: destructive && safety,
      overwrite,
      ...(paths ? { paths } : {}),
      ...(tables ? { tables } : {}),
      ...(needsKey && identity.trim() ? { identity } : {}),
      ...(server ? (which === '*' ? { databases: 'all' as const } : which === '+' && chosen ? { databases: chosen } : { database: which }) : {}),
    });
    setBusy(false);
    if (!result.ok) {
      if (result.error.code === 'key_required') setKeyAsked(true);
      setError(result.error.message);
      setFieldErrors(Object.fromEntries((result.error.issues ?? []).map((i) => [i.path, i.message])));
      return;
    }
    watchRun(result.data.execution_id, `Restore into ${kind === 'new_database' ? database : kind === 'path' ? targetPath : confirmName}`);
    onClose();
    navigate(`/activity/${result.data.execution_id}`);
  }

  if (kinds.length === 0) {
    return (
      <Modal title="Restore" onClose={onClose} footer={<Button onClick={onClose}>Close</Button>}>
        <p>
          There is no {DATASOURCE_TYPE_LABELS[type as keyof typeof DATASOURCE_TYPE_LABELS] ?? type} datasource to restore into. Add one on the Datasources page
          (its connection is where the backup goes), then come back.
        </p>
      </Modal>
    );
  }

  return (
    <Modal
      title="Restore a backup"
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button
            variant={destructive ? 'danger' : 'primary'}
            busy={busy}
            disabled={!confirmed || (kind === 'other' && !otherId) || (needsKey && !identity.trim())}
            onClick={submit}
          >
            Restore
          </Button>
        </>
      }
    >
      <div className="form-stack">
        <LastDrillTime jobId={backup.job_id} />
        <SelectField
          id="restore-backup"
          label="Backup"
          value={backupId}
          onChange={setBackupId}
          options={backups.map((b) => ({
            value: b.id,
            label: `${dateTime(b.finished_at ?? b.created_at)} · ${bytes(b.compressed_size_bytes)} · ${b.job_name ?? 'imported'}`,
          }))}
        />
        <SelectField
          id="restore-copy"
          label="Copy"
          value={storageId}
          onChange={setStorageId}
          error={fieldErrors.storage_location_id}
          hint="Automatic tries each storage in turn until a copy passes its checksums."
          options={[
            { value: '', label: 'Automatic' },
            ...backup.availability.map((a) => ({
              value: a.storage_location_id,
              label: `${a.storage_name} (${a.status === 'unknown' ? 'not checked' : a.status})`,
            })),
          ]}
        />
        {(type === 'files' || (TABLE_TYPES.includes(type) && (!server || tables))) && (paths || tables || onChoose) && (
          <SelectField
            id="restore-what"
            label="What"
            value={paths || tables ? 'chosen' : 'everything'}
            onChange={(v) => v === 'choose' && onChoose?.()}
            hint={
              chosenItems
                ? chosenItems.slice(0, 5).join(', ') +
                  (chosenItems.length > 5 ? `, and ${counted(chosenItems.length - 5, 'more')}` : '') +
                  (tables ? '. Each with its sequences, indexes, constraints and triggers.' : '')
                : undefined
            }
            options={
              chosenItems
                ? [{ value: 'chosen', label: counted(chosenItems.length, tables ? 'chosen table' : 'chosen item') }]
                : [
                    { value: 'everything', label: 'Everything' },
                    { value: 'choose', label: 'Choose…' },
                  ]
            }
          />
        )}
        {server && (
          <SelectField
            id="restore-databases"
            label="Databases"
            value={which}
            onChange={setWhich}
            error={fieldErrors.database ?? fieldErrors.databases}
            hint={tables ? 'The chosen tables come from this database.' : "All: the server's roles and grants first, so owners and grants resolve."}
            options={
              // Chosen tables are of one database: the one they were chosen in.
              tables
                ? restorable.filter((d) => d.name === which).map((d) => ({ value: d.name, label: `${d.name} (${bytes(d.size_bytes)})` }))
                : [
                    { value: '*', label: `All ${restorable.length} databases` },
                    ...(chosen ? [{ value: '+', label: `The ${chosen.length} chosen: ${chosen.join(', ')}` }] : []),
                    ...restorable.map((d) => ({ value: d.name, label: `${d.name} (${bytes(d.size_bytes)})` })),
                  ]
            }
          />
        )}
        <SelectField id="restore-target" label="Restore into" value={kind} onChange={(v) => setKind(v as TargetKind)} options={kinds} />
        {kind === 'other' && (
          <SelectField
            id="restore-other"
            label="Datasource"
            value={otherId}
            onChange={setOtherId}
            error={fieldErrors.target_datasource_id}
            options={candidates.map((d) => ({ value: d.id, label: d.name }))}
          />
        )}
        {kind === 'new_database' && (
          <TextField
            id="restore-database"
            label="New database name"
            value={database}
            onChange={setDatabase}
            error={fieldErrors.target_database}
            hint="Created by the restore; the original database is not touched."
            monospace
          />
        )}
        {kind === 'path' && (
          <TextField
            id="restore-path"
            label={type === 'files' ? 'Folder' : 'File'}
            value={targetPath}
            onChange={setTargetPath}
            error={fieldErrors.target_path}
            placeholder={type === 'files' ? '/srv/restored' : '/srv/restored.db'}
            monospace
            addon={
              api.capabilities.nativeDialogs && api.pickPath ? (
                <BrowseButton
                  kind={type === 'files' ? 'folder' : 'save'}
                  label={type === 'files' ? 'Restore into this folder' : 'Restore as this file'}
                  onPick={setTargetPath}
                />
              ) : undefined
            }
          />
        )}
        {type === 'files' && (
          <Checkbox
            id="restore-overwrite"
            label="Replace files that already exist"
            checked={overwrite}
            onChange={setOverwrite}
            hint={
              overwrite
                ? 'Files the backup holds replace those of the same name; other files stay as they are.'
                : destructive
                  ? 'Off: the restore stops at the first file that already exists, which in this folder is almost certain.'
                  : 'Off: the restore stops at the first file that already exists.'
            }
          />
        )}
        {destructive && (
          <>
            <Checkbox
              id="restore-safety"
              label="Back up the target first"
              checked={safety}
              onChange={setSafety}
              hint="A safety backup of the current data, so this restore can itself be undone."
            />
            <div className="banner banner--warn">
              <div className="banner__body">
                <strong>{replaces(type, where, confirmName, backup, overwrite)}</strong>
                <TextField id="restore-confirm" label={`Type ${confirmName} to confirm`} value={typed} onChange={setTyped} />
              </div>
            </div>
          </>
        )}
        {needsKey && (
          <TextArea
            id="restore-identity"
            label="Recovery key"
            rows={2}
            monospace
            value={identity}
            placeholder="AGE-SECRET-KEY-1…"
            hint="This backup is encrypted and this app has no key that opens it. The key is used for this restore only, and not saved."
            onChange={setIdentity}
          />
        )}
        {error && <ErrorBanner title="The restore did not start">{error}</ErrorBanner>}
      </div>
    </Modal>
  );
}

/** Exactly what a restore onto a datasource replaces, in its words. */
function replaces(type: string, where: string, name: string, backup: BackupEntry, overwrite: boolean): string {
  if (type === 'files') {
    const what = [backup.files_count !== null ? counted(backup.files_count, 'file') : null, backup.size_bytes !== null ? bytes(backup.size_bytes) : null]
      .filter(Boolean)
      .join(', ');
    return overwrite
      ? `This replaces the files in ${where} (${name}) that the backup holds${what ? ` (${what})` : ''}. Other files in the folder stay as they are.`
      : `This restores into ${where} (${name}), where the files of the backup already exist.`;
  }
  if (type === 'sqlite') return `This replaces the database file ${where} (${name}) with the backup.`;
  return `This replaces the data of ${where} (${name}) with the backup’s.`;
}

/** How long a full restore of this job took in its last drill, before the user presses Restore (nothing when it has none). */
function LastDrillTime({ jobId }: { jobId: string | null }) {
  const drill = useStore((s) => s.jobs.data?.find((j) => j.id === jobId)?.last_drill);
  if (!drill || drill.status !== 'completed' || drill.rto_seconds === null) return null;
  return (
    <p className="field__hint" data-testid="restore-drill-time">
      In its last drill ({fromNow(drill.at)}), a full restore of this job took {duration(drill.rto_seconds)}.
    </p>
  );
}
