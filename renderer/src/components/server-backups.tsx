import { Fragment, useMemo, useState } from 'react';
import type { BackupEntry } from '../../../shared/schemas/restore.js';
import { bytes, counted, dateTime, duration, fromNow } from '../../../shared/format.js';
import { databaseHistories, type DatabaseHistory } from '../server-backups.js';
import { Checkbox } from './fields.js';
import { RowActions } from './row-actions.js';
import { DataTable } from './table.js';
import { Button, Card, StatusBadge } from './ui.js';

/** How long a database took, in words a person reads (a small database takes well under a second). */
const took = (ms: number) => (ms < 1000 ? 'under 1 s' : duration(ms / 1000));

/**
 * A whole server's backups, database by database: when each was last backed up, its size, how long it took, and its
 * history (a database that failed in a partial run shows as failed there). One, several or all restore from here.
 */
export function ServerDatabases({ backups, onRestore }: { backups: BackupEntry[]; onRestore(databases: string[] | 'all'): void }) {
  const histories = useMemo(() => databaseHistories(backups), [backups]);
  const [chosen, setChosen] = useState<string[]>([]);
  const [open, setOpen] = useState<string | null>(null);
  const choose = (name: string, on: boolean) => setChosen((c) => (on ? [...c, name] : c.filter((n) => n !== name)));
  return (
    <Card
      title="Databases"
      description="Each database of this server's backups. Several chosen restore together, from the newest backup that holds them all."
      actions={
        <div className="card__actions">
          <Button disabled={chosen.length === 0} onClick={() => onRestore(chosen)}>
            {chosen.length ? `Restore the ${counted(chosen.length, 'chosen database')}` : 'Restore the chosen'}
          </Button>
          <Button onClick={() => onRestore('all')}>Restore all</Button>
        </div>
      }
    >
      <DataTable label="Databases of this server" columns={['Database', 'Last backup', 'Size', 'Took', 'Backed up']} actions flat>
        {histories.map((h, i) => (
          <Fragment key={h.name}>
            <DatabaseRow
              id={`server-db-${i}`}
              history={h}
              chosen={chosen.includes(h.name)}
              onChoose={(on) => choose(h.name, on)}
              open={open === h.name}
              onToggle={() => setOpen(open === h.name ? null : h.name)}
              onRestore={() => onRestore([h.name])}
            />
            {open === h.name && (
              <tr className="table__detail">
                <td colSpan={6}>
                  <DatabaseRuns history={h} />
                </td>
              </tr>
            )}
          </Fragment>
        ))}
      </DataTable>
    </Card>
  );
}

function DatabaseRow(p: {
  id: string;
  history: DatabaseHistory;
  chosen: boolean;
  onChoose(on: boolean): void;
  open: boolean;
  onToggle(): void;
  onRestore(): void;
}) {
  const { history: h } = p;
  const latest = h.runs[0]!;
  const good = h.runs.filter((r) => r.entry.status === 'completed').length;
  return (
    <tr>
      <td>{h.latestGood ? <Checkbox id={p.id} label={h.name} checked={p.chosen} onChange={p.onChoose} /> : <span className="table__name">{h.name}</span>}</td>
      <td title={latest.entry.error ?? dateTime(latest.backup.created_at)}>
        {latest.entry.status === 'failed' ? (
          <>
            <StatusBadge status="failed" label="Failed" />
            <div className="table__sub">{h.latestGood ? `last good ${fromNow(h.latestGood.backup.created_at)}` : 'never backed up'}</div>
          </>
        ) : (
          fromNow(latest.backup.created_at)
        )}
      </td>
      <td>{h.latestGood ? bytes(h.latestGood.entry.compressed_size_bytes) : '—'}</td>
      <td>{h.latestGood ? took(h.latestGood.entry.duration_ms) : '—'}</td>
      <td>{good === h.runs.length ? counted(good, 'time') : `${good} of ${counted(h.runs.length, 'run')}`}</td>
      <RowActions>
        <Button size="sm" variant="ghost" onClick={p.onToggle} ariaLabel={`${p.open ? 'Hide' : 'Show'} the history of ${h.name}`}>
          {p.open ? 'Hide history' : 'History'}
        </Button>
        <Button size="sm" disabled={!h.latestGood} onClick={p.onRestore} ariaLabel={`Restore ${h.name}`}>
          Restore
        </Button>
      </RowActions>
    </tr>
  );
}

/** Every run that held the database, newest first: its status, size and how long it took (or why it failed). */
function DatabaseRuns({ history }: { history: DatabaseHistory }) {
  return (
    <ul className="database-runs" aria-label={`Backups of ${history.name}`}>
      {history.runs.map(({ backup, entry }) => (
        <li key={backup.id}>
          <a href={`#/activity/${backup.id}`}>{dateTime(backup.created_at)}</a>{' '}
          <StatusBadge status={entry.status} label={entry.status === 'completed' ? 'Backed up' : 'Failed'} />{' '}
          {entry.status === 'completed' ? `${bytes(entry.compressed_size_bytes)} · ${took(entry.duration_ms)}` : entry.error}
        </li>
      ))}
    </ul>
  );
}
