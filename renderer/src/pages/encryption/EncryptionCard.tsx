import { useState } from 'react';
import type { OutputOf } from '../../../../shared/contract.js';
import { AGE_RECIPIENT, type EncryptionState } from '../../../../shared/schemas/encryption.js';
import { api } from '../../api.js';
import { Checkbox, TextArea, TextField } from '../../components/fields.js';
import { Button, Card, ErrorBanner, KeyValue, Loading, Modal, StatusBadge } from '../../components/ui.js';
import { saveText, shortKey, useEncryption } from '../../encryption.js';
import { dateTime } from '../../../../shared/format.js';
import { toast } from '../../store.js';
import { RecoverySheet } from './RecoverySheet.js';

type Setup = OutputOf<'encryption.setup'>;

const Key = ({ recipient }: { recipient: string }) => (
  <code className="mono" title={recipient}>
    {shortKey(recipient)}
  </code>
);

/** Settings → Encryption: set up, the keys, extra keys, checking a recovery key, write-only mode and the recovery kit. */
export function EncryptionCard() {
  const { state, error, reload } = useEncryption();
  const [setup, setSetup] = useState<Setup | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirm, setConfirm] = useState<'replace' | 'write-only' | null>(null);
  const [importing, setImporting] = useState(false);

  async function makeKeys(replace: boolean) {
    setBusy(true);
    const r = await api.call('encryption.setup', { replace });
    setBusy(false);
    setConfirm(null);
    if (!r.ok) return toast('error', r.error.message);
    setSetup(r.data);
    void reload();
  }

  return (
    <Card
      title="Encryption"
      description="Backups encrypted with age: only this app’s key and your recovery key open them, and the standard age tool restores them without DataGuardian."
    >
      {error && <ErrorBanner title="Could not load the encryption settings">{error}</ErrorBanner>}
      {!state && !error && <Loading what="encryption settings" />}
      {state && !state.set_up && (
        <div className="form-stack">
          <p>
            Backups are stored as they are: whoever can read the storage can read them. Setting up encryption makes a key for this app and a{' '}
            <strong>recovery key</strong> that is shown once for you to keep; new jobs then encrypt their backups.
          </p>
          <div>
            <Button variant="primary" busy={busy} onClick={() => void makeKeys(false)}>
              Set up encryption
            </Button>{' '}
            <Button variant="ghost" onClick={() => setImporting(true)}>
              Import a configuration…
            </Button>
          </div>
          <p className="field__hint">Rebuilding a lost machine? Import the configuration file exported there, with its recovery key.</p>
          {importing && <ImportKitDialog onClose={() => setImporting(false)} />}
        </div>
      )}
      {state?.set_up && (
        <div className="form-stack">
          <Keys state={state} />
          <ExtraKeys state={state} onSaved={reload} />
          <CheckRecoveryKey />
          <RecoveryKit />
          <div className="test-row">
            <Button size="sm" onClick={() => setConfirm('replace')}>
              Make new keys…
            </Button>
            {!state.write_only && (
              <Button size="sm" variant="danger" onClick={() => setConfirm('write-only')}>
                Write-only mode…
              </Button>
            )}
          </div>
        </div>
      )}
      {confirm === 'replace' && (
        <Modal
          title="Make new keys?"
          onClose={() => setConfirm(null)}
          footer={
            <>
              <Button onClick={() => setConfirm(null)}>Cancel</Button>
              <Button variant="primary" busy={busy} onClick={() => void makeKeys(true)}>
                Make new keys
              </Button>
            </>
          }
        >
          <p>
            New backups will be encrypted to a new app key and a new recovery key, shown next. Older backups keep their keys: this app still opens them, and so
            does the old recovery key.
          </p>
        </Modal>
      )}
      {confirm === 'write-only' && (
        <WriteOnlyDialog
          onClose={() => setConfirm(null)}
          onDone={() => {
            setConfirm(null);
            void reload();
          }}
        />
      )}
      {setup && <RecoverySheet setup={setup} onClose={() => setSetup(null)} />}
    </Card>
  );
}

function Keys({ state }: { state: EncryptionState }) {
  const retired = state.keys.filter((k) => !k.active);
  return (
    <KeyValue
      items={[
        [
          'Status',
          state.write_only ? (
            <StatusBadge status="warning" label="Write-only: only the recovery key opens backups" />
          ) : (
            <StatusBadge status="ok" label="Encrypting" />
          ),
        ],
        ["This app's key", state.app_recipient ? <Key recipient={state.app_recipient} /> : <span className="muted">Deleted (write-only)</span>],
        ['Recovery key', state.recovery_recipient ? <Key recipient={state.recovery_recipient} /> : '—'],
        ['Jobs', `${state.jobs_encrypted} encrypt their backups${state.jobs_unencrypted ? `; ${state.jobs_unencrypted} store them unencrypted` : ''}`],
        ...(retired.length ? [['Older keys', `${retired.length}, kept for the backups made with them`] as [string, string]] : []),
      ]}
    />
  );
}

/** Extra public keys (a colleague's age1…): every new backup is encrypted to them too. */
function ExtraKeys({ state, onSaved }: { state: EncryptionState; onSaved(): Promise<void> }) {
  const [recipient, setRecipient] = useState('');
  const [label, setLabel] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function save(list: { recipient: string; label: string | null }[]) {
    setBusy(true);
    setError(null);
    const r = await api.call('encryption.recipients', { recipients: list });
    setBusy(false);
    if (!r.ok) return setError(r.error.message);
    setRecipient('');
    setLabel('');
    await onSaved();
  }
  const valid = AGE_RECIPIENT.test(recipient.trim());
  return (
    <fieldset className="subgroup">
      <legend className="field__label">Extra public keys</legend>
      <p className="field__hint">Someone else who may open new backups with their own age key. Older backups are not changed.</p>
      {state.recipients.length > 0 && (
        <ul className="plain-list" aria-label="Extra public keys">
          {state.recipients.map((r) => (
            <li key={r.recipient}>
              <Key recipient={r.recipient} /> {r.label && <span className="muted">{r.label}</span>}{' '}
              <Button
                size="sm"
                variant="ghost"
                disabled={busy}
                ariaLabel={`Remove the key ${r.label ?? shortKey(r.recipient)}`}
                onClick={() => void save(state.recipients.filter((x) => x.recipient !== r.recipient))}
              >
                Remove
              </Button>
            </li>
          ))}
        </ul>
      )}
      <div className="form-grid">
        <TextField id="extra-key" label="Public key" monospace value={recipient} placeholder="age1…" onChange={setRecipient} error={error ?? undefined} />
        <TextField id="extra-key-label" label="Whose key" value={label} placeholder="Ana (IT)" onChange={setLabel} />
      </div>
      <div>
        <Button
          size="sm"
          busy={busy}
          disabled={!valid}
          onClick={() => void save([...state.recipients, { recipient: recipient.trim(), label: label.trim() || null }])}
        >
          Add key
        </Button>
      </div>
    </fieldset>
  );
}

function CheckRecoveryKey() {
  const [identity, setIdentity] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<OutputOf<'encryption.checkRecovery'> | null>(null);
  const [error, setError] = useState<string | null>(null);
  async function check() {
    setBusy(true);
    setError(null);
    setResult(null);
    const r = await api.call('encryption.checkRecovery', { identity });
    setBusy(false);
    // The key leaves the page's memory as soon as it has been checked.
    setIdentity('');
    if (!r.ok) return setError(r.error.message);
    setResult(r.data);
  }
  const opened = result?.backups.filter((b) => b.opens).length ?? 0;
  return (
    <fieldset className="subgroup">
      <legend className="field__label">Check a recovery key</legend>
      <TextArea
        id="check-recovery-key"
        label="Recovery key"
        rows={2}
        monospace
        value={identity}
        placeholder="AGE-SECRET-KEY-1…"
        hint="Paste the key, or the whole key file. It is used for this check only."
        onChange={setIdentity}
      />
      <div className="test-row">
        <Button size="sm" busy={busy} disabled={!identity.trim()} onClick={() => void check()}>
          Check key
        </Button>
        {result && (
          <div role="status" aria-label="Recovery key check">
            <StatusBadge
              status={result.backups.length === 0 || opened === result.backups.length ? 'ok' : 'error'}
              label={
                result.backups.length === 0
                  ? `${result.is_recovery_key ? 'This is the recovery key' : 'This is not the current recovery key'}; no encrypted backup yet`
                  : `Opens ${opened} of the ${result.backups.length} latest backups${result.is_recovery_key ? '' : ' (not the current recovery key)'}`
              }
            />
          </div>
        )}
      </div>
      {result && result.backups.some((b) => !b.opens) && (
        <ul className="plain-list">
          {result.backups
            .filter((b) => !b.opens)
            .map((b) => (
              <li key={b.execution_id}>
                {b.job_name ?? 'A backup'} of {dateTime(b.created_at)}: {b.message}
              </li>
            ))}
        </ul>
      )}
      {error && <ErrorBanner title="Could not check the key">{error}</ErrorBanner>}
    </fieldset>
  );
}

function WriteOnlyDialog({ onClose, onDone }: { onClose(): void; onDone(): void }) {
  const [understood, setUnderstood] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function go() {
    setBusy(true);
    const r = await api.call('encryption.writeOnly', { confirm: true });
    setBusy(false);
    if (!r.ok) return setError(r.error.message);
    toast('success', 'Write-only mode: this app’s key is deleted');
    onDone();
  }
  return (
    <Modal
      title="Delete this app's key?"
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="danger" busy={busy} disabled={!understood} onClick={() => void go()}>
            Delete the app's key
          </Button>
        </>
      }
    >
      <p>
        Backups go on, encrypted to the recovery key (and any extra keys), but this app can no longer open any of them: a restore, a test restore or a decrypted
        download will ask for the recovery key. Someone who breaks into this machine cannot read its backups. This cannot be undone.
      </p>
      <Checkbox
        id="write-only-understood"
        label="I have the recovery key, and checked that it opens the latest backups"
        checked={understood}
        onChange={setUnderstood}
      />
      {error && <ErrorBanner title="Could not delete the key">{error}</ErrorBanner>}
    </Modal>
  );
}

/** The recovery kit: the whole configuration, secrets included, as one age file to the recovery key. */
function RecoveryKit() {
  const [passphrase, setPassphrase] = useState('');
  const [busy, setBusy] = useState(false);
  const [importing, setImporting] = useState(false);
  async function exportKit() {
    setBusy(true);
    const r = await api.call('config.export', passphrase ? { passphrase } : {});
    setBusy(false);
    if (!r.ok) return toast('error', r.error.message);
    saveText(r.data.file_name, r.data.content);
    setPassphrase('');
    toast('success', `Configuration saved: ${r.data.datasources} datasources, ${r.data.storages} storages, ${r.data.jobs} jobs`);
  }
  return (
    <fieldset className="subgroup">
      <legend className="field__label">Recovery kit</legend>
      <p className="field__hint">
        One file with every datasource, storage, job and setting, passwords included, encrypted to the recovery key. On a new machine: install, import it,
        import the backups from a storage, restore.
      </p>
      <div className="form-grid">
        <TextField
          id="kit-passphrase"
          label="Also lock it with a passphrase (optional)"
          type="password"
          autoComplete="new-password"
          value={passphrase}
          hint="Then opening it needs the recovery key and this passphrase."
          onChange={setPassphrase}
        />
      </div>
      <div className="test-row">
        <Button size="sm" busy={busy} disabled={passphrase !== '' && passphrase.length < 10} onClick={() => void exportKit()}>
          Export configuration
        </Button>
        <Button size="sm" variant="ghost" onClick={() => setImporting(true)}>
          Import configuration…
        </Button>
      </div>
      {importing && <ImportKitDialog onClose={() => setImporting(false)} />}
    </fieldset>
  );
}

function ImportKitDialog({ onClose }: { onClose(): void }) {
  const [kit, setKit] = useState('');
  const [identity, setIdentity] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<OutputOf<'config.import'> | null>(null);
  async function run() {
    setBusy(true);
    setError(null);
    const r = await api.call('config.import', { kit, identity, ...(passphrase ? { passphrase } : {}) });
    setBusy(false);
    setIdentity('');
    if (!r.ok) return setError(r.error.message);
    setDone(r.data);
  }
  return (
    <Modal
      title="Import a configuration"
      onClose={onClose}
      footer={
        done ? (
          <Button variant="primary" onClick={onClose}>
            Done
          </Button>
        ) : (
          <>
            <Button onClick={onClose}>Cancel</Button>
            <Button variant="primary" busy={busy} disabled={!kit.trim() || !identity.trim()} onClick={() => void run()}>
              Import
            </Button>
          </>
        )
      }
    >
      <div className="form-stack">
        <p>For a fresh install: brings back the datasources, storages, jobs, settings and keys of the machine the file was exported from.</p>
        <label className="field__label" htmlFor="kit-file">
          Configuration file
        </label>
        <input
          id="kit-file"
          type="file"
          accept=".age,text/plain"
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) void file.text().then(setKit);
          }}
        />
        <TextArea id="kit-identity" label="Recovery key" rows={2} monospace value={identity} placeholder="AGE-SECRET-KEY-1…" onChange={setIdentity} />
        <TextField
          id="kit-import-passphrase"
          label="Passphrase (if it has one)"
          type="password"
          autoComplete="off"
          value={passphrase}
          onChange={setPassphrase}
        />
        {done && (
          <div className="banner banner--ok" role="status">
            <div className="banner__body">
              <strong>
                Imported {done.datasources} datasources, {done.storages} storages and {done.jobs} jobs
              </strong>
              <span>Next: Backups → Import from storage, then restore.</span>
            </div>
          </div>
        )}
        {error && <ErrorBanner title="Could not import">{error}</ErrorBanner>}
      </div>
    </Modal>
  );
}
