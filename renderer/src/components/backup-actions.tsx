import { useState } from 'react';
import { counted, dateTime, shortDateTime } from '../../../shared/format.js';
import type { Execution } from '../../../shared/schemas/execution.js';
import { api } from '../api.js';
import { toast, watchRun } from '../store.js';
import { TextField } from './fields.js';
import { PinIcon } from './icons.js';
import type { MenuItem } from './row-actions.js';
import { Button, ErrorBanner, Modal } from './ui.js';
import { KeyPrompt } from './key-prompt.js';

type Backup = Pick<Execution, 'id' | 'created_at' | 'finished_at' | 'pin' | 'copies' | 'job_name'>;

/** "the backup of 7 Dec, 14:35": how a sentence names a backup. */
export const backupName = (b: Pick<Execution, 'created_at' | 'finished_at'>) => `the backup of ${shortDateTime(b.finished_at ?? b.created_at)}`;

/** The pin a pinned backup wears in a list or on its page, its reason in the tooltip. */
export function PinBadge({ pin }: { pin: Execution['pin'] }) {
  if (!pin) return null;
  const why = `Pinned ${dateTime(pin.at)}${pin.reason ? `: ${pin.reason}` : ''}. Retention never deletes it.`;
  return (
    <span className="pin" title={why} role="img" aria-label={why}>
      <PinIcon size={14} />
    </span>
  );
}

/**
 * Starts a verification of a backup; its end is announced like any run the user started. A test restore of an
 * encrypted backup this app cannot open (write-only) asks for the recovery key through `ask`, for that run only.
 */
export async function verifyBackup(
  b: Backup,
  method: 'checksum' | 'restore-test',
  o: { identity?: string; ask?: (d: BackupDialog) => void } = {},
): Promise<void> {
  const result = await api.call('backups.verify', { id: b.id, method, ...(o.identity ? { identity: o.identity } : {}) });
  if (!result.ok && result.error.code === 'key_required' && method === 'restore-test' && o.ask)
    return o.ask({ kind: 'key', backup: b, message: result.error.message });
  if (!result.ok) return toast('error', result.error.message);
  watchRun(result.data.execution_id, `${method === 'checksum' ? 'Checksum verification' : 'Test restore'} of ${backupName(b)}`);
}

/** The dialogs a backup's actions open: pin (with a reason) and delete (confirmed). */
export type BackupDialog = { kind: 'pin' | 'delete'; backup: Backup } | { kind: 'key'; backup: Backup; message: string } | null;

/** The less frequent actions on a backup, for a "⋯" menu: verify, test restore, pin or unpin, delete. */
export function backupMenuItems(b: Backup, open: (d: BackupDialog) => void, unpin: () => void): MenuItem[] {
  return [
    { label: 'Verify checksums', onSelect: () => void verifyBackup(b, 'checksum') },
    { label: 'Test restore', onSelect: () => void verifyBackup(b, 'restore-test', { ask: open }) },
    b.pin ? { label: 'Unpin', onSelect: unpin } : { label: 'Pin…', onSelect: () => open({ kind: 'pin', backup: b }) },
    { label: 'Delete…', onSelect: () => open({ kind: 'delete', backup: b }), danger: true, disabled: Boolean(b.pin) },
  ];
}

export async function unpinBackup(b: Backup): Promise<void> {
  const result = await api.call('backups.unpin', { id: b.id });
  if (result.ok) toast('success', `Unpinned ${backupName(b)}: retention treats it like any other now`);
  else toast('error', result.error.message);
}

export function BackupDialogs({ dialog, onClose }: { dialog: BackupDialog; onClose(): void }) {
  if (!dialog) return null;
  if (dialog.kind === 'key') {
    const { backup, message } = dialog;
    return (
      <KeyPrompt
        what="Test restore"
        message={message}
        onClose={onClose}
        onSubmit={(identity) => {
          onClose();
          void verifyBackup(backup, 'restore-test', { identity });
        }}
      />
    );
  }
  return dialog.kind === 'pin' ? <PinDialog backup={dialog.backup} onClose={onClose} /> : <DeleteDialog backup={dialog.backup} onClose={onClose} />;
}

function PinDialog({ backup, onClose }: { backup: Backup; onClose(): void }) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function pin() {
    setBusy(true);
    const result = await api.call('backups.pin', { id: backup.id, reason });
    setBusy(false);
    if (!result.ok) return setError(result.error.message);
    toast('success', `Pinned ${backupName(backup)}: retention keeps it`);
    onClose();
  }
  return (
    <Modal
      title={`Pin ${backupName(backup)}?`}
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" busy={busy} onClick={pin}>
            Pin
          </Button>
        </>
      }
    >
      <p>Retention never deletes a pinned backup, whatever the job’s rule says. It stays until you unpin it.</p>
      <TextField id="pin-reason" label="Why (optional)" value={reason} onChange={setReason} placeholder="Before the move to the new server" />
      {error && <ErrorBanner title="Could not pin it">{error}</ErrorBanner>}
    </Modal>
  );
}

function DeleteDialog({ backup, onClose }: { backup: Backup; onClose(): void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const storages = [...new Set(backup.copies.filter((c) => c.status === 'completed').map((c) => c.storage_name))];
  async function remove() {
    setBusy(true);
    const result = await api.call('backups.delete', { id: backup.id });
    setBusy(false);
    if (!result.ok) return setError(result.error.message);
    watchRun(result.data.execution_id, `Deletion of ${backupName(backup)}`);
    onClose();
  }
  return (
    <Modal
      title={`Delete ${backupName(backup)}?`}
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="danger" busy={busy} onClick={remove}>
            Delete
          </Button>
        </>
      }
    >
      <p>
        Its files are deleted from {storages.length ? `${counted(storages.length, 'storage')} (${storages.join(', ')})` : 'every storage'}: it can no longer be
        restored. Its run stays in Activity, marked as deleted by hand.
      </p>
      {error && <ErrorBanner title="Could not delete it">{error}</ErrorBanner>}
    </Modal>
  );
}
