import { useState } from 'react';
import type { ExecutionDetails } from '../../../shared/schemas/execution.js';
import { drillMetadata } from '../../../shared/schemas/execution.js';
import { api } from '../api.js';
import { toast } from '../store.js';
import { DataTable } from './table.js';
import { Button, Card } from './ui.js';

const Verdict = ({ ok }: { ok: boolean }) => <span className={ok ? '' : 'text-bad'}>{ok ? 'Passed' : 'Failed'}</span>;

/** Saves the drill's printable report (one HTML page, made by the core) under its own name. */
function DownloadReport({ id }: { id: string }) {
  const [busy, setBusy] = useState(false);
  async function download() {
    setBusy(true);
    const result = await api.call('executions.drillReport', { id });
    setBusy(false);
    if (!result.ok) return toast('error', result.error.message);
    const url = URL.createObjectURL(new Blob([result.data.html], { type: 'text/html' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = result.data.file_name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
  return (
    <Button size="sm" busy={busy} onClick={download}>
      Download drill report
    </Button>
  );
}

/** A drill's copies, timed phases and checks; the report for auditors once it ended. */
export function DrillDetails({ execution }: { execution: ExecutionDetails }) {
  const parsed = drillMetadata.safeParse({ ...execution.metadata, operation: 'drill' });
  if (!parsed.success) return null;
  const m = parsed.data;
  const ended = execution.status !== 'queued' && execution.status !== 'running';
  return (
    <Card
      title="Drill"
      description="Every copy downloaded and checked, restored into a scratch target that is removed afterwards, and checked against what the backup recorded."
      actions={ended ? <DownloadReport id={execution.id} /> : undefined}
    >
      {m.copies && m.copies.length > 0 && (
        <DataTable label="Copies checked" columns={['Copy', 'Parts', 'Verdict', 'Detail']} flat>
          {m.copies.map((c) => (
            <tr key={c.storage_name}>
              <td>{c.storage_name}</td>
              <td>{c.parts}</td>
              <td>
                <Verdict ok={c.ok} />
              </td>
              <td>{c.error ?? 'Every part matches its SHA-256'}</td>
            </tr>
          ))}
        </DataTable>
      )}
      {m.phases && m.phases.length > 0 && (
        <DataTable label="Phases" columns={['Phase', 'Time', 'Verdict', 'Detail']} flat>
          {m.phases.map((p) => (
            <tr key={p.name}>
              <td>{p.name.charAt(0).toUpperCase() + p.name.slice(1)}</td>
              <td>{p.seconds < 10 ? `${p.seconds.toFixed(1)} s` : `${Math.round(p.seconds)} s`}</td>
              <td>
                <Verdict ok={p.ok} />
              </td>
              <td>{p.detail}</td>
            </tr>
          ))}
        </DataTable>
      )}
      {m.checks && m.checks.length > 0 && (
        <DataTable label="Checks" columns={['Check', 'Verdict', 'Detail']} flat>
          {m.checks.map((c, i) => (
            <tr key={i}>
              <td className="break">{c.name}</td>
              <td>
                <Verdict ok={c.ok} />
              </td>
              <td className="break">{c.detail}</td>
            </tr>
          ))}
        </DataTable>
      )}
    </Card>
  );
}
