import { useState } from 'react';
import { bytes } from '../../../shared/format.js';
import type { ServerDatabases } from '../../../shared/schemas/datasource.js';
import type { DatasourceType } from '../../../shared/schemas/enums.js';
import { api } from '../api.js';
import { DataTable } from './table.js';
import { Button, Card } from './ui.js';

const REASONS: Record<ServerDatabases['databases'][number]['reason'], string> = {
  picked: 'Backed up',
  excluded: 'Left out by an exclude pattern',
  not_included: 'Left out: no include pattern names it',
  system: 'System database, left out',
};

/**
 * "Every database on this server": the databases the server has now and which the patterns pick, asked on
 * demand (the server is reached with the form's connection, saved or not).
 */
export function ServerDatabasesCard({ type, config, id }: { type: DatasourceType; config: Record<string, unknown>; id?: string }) {
  const [answer, setAnswer] = useState<ServerDatabases | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const look = async () => {
    setBusy(true);
    const r = await api.call('datasources.databases', { type, connection_config: config, ...(id ? { id } : {}) });
    setBusy(false);
    setAnswer(r.ok ? r.data : null);
    setError(r.ok ? null : r.error.message);
  };
  return (
    <Card
      title="Databases on this server"
      description="Each database is backed up as a file of its own, with the server's roles and grants. One created later is included by the next run."
      actions={
        <Button busy={busy} onClick={() => void look()}>
          {answer ? 'Look again' : 'Show the databases'}
        </Button>
      }
    >
      {error && <p className="banner banner--warn">{error}</p>}
      {answer && (
        <>
          <p>
            {answer.picked} of {answer.databases.length} databases will be backed up.
          </p>
          <DataTable label="Databases on this server" columns={['Database', 'Size', 'Backed up?']}>
            {answer.databases.map((d) => (
              <tr key={d.name}>
                <td className="table__name">{d.name}</td>
                <td>{d.size_bytes === null ? 'unknown (no access)' : bytes(d.size_bytes)}</td>
                <td>{REASONS[d.reason]}</td>
              </tr>
            ))}
          </DataTable>
        </>
      )}
    </Card>
  );
}
