import { useEffect, useState } from 'react';
import type { Execution, ExecutionProgress } from '../../../shared/schemas/execution.js';
import { backupFileName } from '../../../shared/words.js';
import { api } from '../api.js';
import { bytes, duration } from '../../../shared/format.js';
import { toast, useStore } from '../store.js';
import { Button } from './ui.js';

const STAGE_WORDS: Record<ExecutionProgress['stage'], string> = {
  queued: 'Waiting for a free slot',
  connecting: 'Connecting',
  // Dump, compression and upload stream through one pipeline: they advance together.
  dump: 'Dumping, compressing and uploading',
  upload: 'Uploading',
  replicate: 'Copying to the other storages',
  finishing: 'Writing the manifest',
  download: 'Downloading and checking the backup',
  safety_backup: 'Backing up the target first',
  restore: 'Restoring',
  check: 'Checking the result',
};

export const isActive = (e: Pick<Execution, 'status'>) => e.status === 'queued' || e.status === 'running';

/** Live progress of a queued or running execution; without an estimate of the total the bar only shows motion. */
export function ProgressBar({ execution, compact }: { execution: Execution; compact?: boolean }) {
  const p = useStore((s) => s.progress[execution.id]);
  // The clock runs on its own: a dump waiting for a lock sends no progress, yet time passes.
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const elapsed = execution.started_at ? (now - new Date(execution.started_at).getTime()) / 1000 : null;
  const stage = p?.stage ?? (execution.status === 'queued' ? 'queued' : 'connecting');
  const percent = p?.total_raw_estimate ? Math.min(99, Math.floor((p.bytes_raw / p.total_raw_estimate) * 100)) : null;
  return (
    <div className={`progress ${compact ? 'progress--compact' : ''}`}>
      <div
        className={`progress__track ${percent === null ? 'progress__track--busy' : ''}`}
        role="progressbar"
        aria-label={`Progress of ${execution.job_name ?? 'the backup'}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent ?? undefined}
        aria-valuetext={STAGE_WORDS[stage]}
      >
        <div className="progress__fill" style={{ width: `${percent ?? 100}%` }} />
      </div>
      <div className="progress__facts">
        <span>{STAGE_WORDS[stage]}</span>
        {p && p.bytes_raw > 0 && (
          <>
            <span>
              {bytes(p.bytes_raw)} read{p.total_raw_estimate ? ` of about ${bytes(p.total_raw_estimate)}` : ''}
            </span>
            {!compact && <span>{bytes(p.bytes_stored)} stored</span>}
            <span>{bytes(p.throughput_bps)}/s</span>
          </>
        )}
        {elapsed !== null && <span>{duration(elapsed)} elapsed</span>}
      </div>
    </div>
  );
}

export function CancelButton({ execution, size }: { execution: Execution; size?: 'sm' }) {
  const [busy, setBusy] = useState(false);
  async function cancel() {
    setBusy(true);
    const result = await api.call('executions.cancel', { id: execution.id });
    setBusy(false);
    if (!result.ok) toast('error', result.error.message);
  }
  return (
    <Button size={size} variant={size ? 'ghost' : 'secondary'} busy={busy} onClick={cancel} ariaLabel={`Cancel ${execution.job_name ?? 'backup'}`}>
      Cancel
    </Button>
  );
}

/**
 * The joined backup file. The desktop asks where to save it and writes it there; a browser downloads it
 * from the server, which checks every part's checksum as it streams.
 */
export function DownloadButton({ execution, size }: { execution: Execution; size?: 'sm' }) {
  const [busy, setBusy] = useState(false);
  const label = `Download ${execution.job_name ?? 'backup'}`;
  const { pickPath } = api;
  if (!api.capabilities.nativeDialogs || !pickPath) {
    return (
      <a
        className={`btn btn--${size ? 'ghost' : 'secondary'} ${size ? 'btn--sm' : ''}`}
        href={`./api/executions/${execution.id}/download`}
        download
        aria-label={label}
      >
        Download
      </a>
    );
  }
  async function save() {
    setBusy(true);
    await downloadBackup(execution);
    setBusy(false);
  }
  return (
    <Button size={size} variant={size ? 'ghost' : 'secondary'} busy={busy} onClick={save} ariaLabel={label}>
      Download
    </Button>
  );
}

/**
 * Downloads a backup as one file: the desktop asks where to save it (named `<job>-<date>.<ext>`) and
 * writes it there; a browser fetches it from the server under that name.
 */
export async function downloadBackup(execution: Execution, o: { decrypt?: boolean } = {}): Promise<void> {
  const { pickPath } = api;
  if (!api.capabilities.nativeDialogs || !pickPath) {
    const link = document.createElement('a');
    link.href = `./api/executions/${execution.id}/download${o.decrypt ? '?decrypt=true' : ''}`;
    link.download = '';
    link.click();
    return;
  }
  const artifact = execution.metadata?.artifact;
  const defaultName =
    typeof artifact === 'string' ? backupFileName({ ...execution, artifact: o.decrypt ? artifact.replace(/\.age$/, '') : artifact }) : undefined;
  const destination = await pickPath({ kind: 'save', title: 'Save the backup as', defaultName });
  if (!destination) return;
  const result = await api.call('executions.export', { id: execution.id, destination_path: destination, decrypt: o.decrypt === true });
  if (result.ok) toast('success', `Saved ${bytes(result.data.size_bytes)} to ${result.data.path}`);
  else toast('error', result.error.message);
}

/** "28% of 1.2 GB": what compression kept. */
export function ratio(e: Pick<Execution, 'size_bytes' | 'compressed_size_bytes'>): string | null {
  if (!e.size_bytes || e.compressed_size_bytes === null) return null;
  return `${Math.round((e.compressed_size_bytes / e.size_bytes) * 1000) / 10}% of ${bytes(e.size_bytes)}`;
}
