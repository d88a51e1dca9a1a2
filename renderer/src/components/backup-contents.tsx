import { useCallback, useEffect, useState } from 'react';
import type { BackupEntryItem, EntriesPage } from '../../../shared/schemas/toc.js';
import { counted, shortDateTime } from '../../../shared/format.js';
import { api, errorMessage } from '../api.js';
import { DataTable } from './table.js';
import { Button, Card, Loading, LoadFailed, Size } from './ui.js';

/** A file's kind as a user reads it beside its name. */
const KIND: Record<string, string> = { directory: 'Folder', file: 'File', symlink: 'Link', hardlink: 'Link' };

/** The path's folders, for the breadcrumb: Top › dept-3 › year-2003. */
function crumbs(path: string): { name: string; path: string }[] {
  const parts = path ? path.split('/') : [];
  return parts.map((name, i) => ({ name, path: parts.slice(0, i + 1).join('/') }));
}

/** What the Contents tab hands to a restore: files and folders, or tables (of one database of a whole server's backup). */
export interface ChosenContents {
  paths?: string[];
  tables?: string[];
  database?: string;
}

/**
 * What a backup holds, from the table of contents written with it: a folder backup's tree (opened folder by folder, or
 * searched by name), or a database backup's tables with their rows and sizes; a whole server's backup, one database
 * at a time. Pages of 200 at most.
 */
export function BackupContents({
  backupId,
  databases,
  onRestore,
}: {
  backupId: string;
  /** A whole server's backup: the databases it holds, browsed one at a time. */
  databases?: string[];
  onRestore(chosen: ChosenContents): void;
}) {
  const [database, setDatabaseOnly] = useState(databases?.[0]);
  const [path, setPath] = useState('');
  const [search, setSearch] = useState('');
  const [q, setQ] = useState('');
  const [page, setPage] = useState<EntriesPage | null>(null);
  const [more, setMore] = useState<{ loading: boolean }>({ loading: false });
  const [error, setError] = useState<string | null>(null);
  const [chosen, setChosen] = useState<string[]>([]);
  const toggle = (p: string) => setChosen((c) => (c.includes(p) ? c.filter((x) => x !== p) : [...c, p]));
  // Tables chosen in one database restore from that database only.
  const setDatabase = (name: string) => {
    setDatabaseOnly(name);
    setChosen([]);
  };

  // A search waits for the typing to pause.
  useEffect(() => {
    const timer = setTimeout(() => setQ(search.trim()), 250);
    return () => clearTimeout(timer);
  }, [search]);

  const load = useCallback(async () => {
    try {
      setError(null);
      setPage(await api.run('backups.entries', { id: backupId, path, q, database }));
    } catch (e) {
      setError(errorMessage(e));
    }
  }, [backupId, path, q, database]);
  useEffect(() => void load(), [load]);

  async function loadMore() {
    if (!page?.next_cursor) return;
    setMore({ loading: true });
    try {
      const next = await api.run('backups.entries', { id: backupId, path, q, database, cursor: page.next_cursor });
      setPage({ ...next, entries: [...page.entries, ...next.entries] });
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setMore({ loading: false });
    }
  }

  if (error) return <LoadFailed what="what this backup holds" error={error} retry={load} />;
  if (!page) return <Loading what="the contents (the first time, a backup's table of contents is read from its storage)" />;
  const files = page.kind === 'files';

  return (
    <Card
      title="Contents"
      actions={
        chosen.length > 0 ? (
          <Button variant="primary" onClick={() => onRestore(files ? { paths: chosen } : { tables: chosen, ...(database ? { database } : {}) })}>
            {files ? `Restore ${counted(chosen.length, 'item')}…` : `Restore ${chosen.length === 1 ? 'this table' : `these ${chosen.length} tables`}…`}
          </Button>
        ) : undefined
      }
      description={
        files
          ? `${counted(page.total, q ? 'match' : 'item', q ? 'matches' : 'items')}${q ? ` for “${q}”` : ''}`
          : `${counted(page.total, 'object')} in ${database ? `database ${database} of ` : ''}this backup`
      }
    >
      {page.message && (
        <div className="banner banner--info" role="status">
          {page.message}
        </div>
      )}
      <div className="filters" role="group" aria-label="Find in this backup">
        {files && (
          <nav className="filters__item" aria-label="Folder">
            <button type="button" className="link-button" onClick={() => setPath('')}>
              Top
            </button>
            {crumbs(path).map((c) => (
              <span key={c.path}>
                {' › '}
                <button type="button" className="link-button" onClick={() => setPath(c.path)}>
                  {c.name}
                </button>
              </span>
            ))}
          </nav>
        )}
        {databases && (
          <label className="filters__item">
            Database
            <select className="input select" aria-label="Database" value={database} onChange={(e) => setDatabase(e.target.value)}>
              {databases.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </label>
        )}
        <label className="filters__item">
          Search
          <input
            className="input"
            type="search"
            aria-label={files ? 'Search file names' : 'Search table names'}
            placeholder={files ? 'File or folder name' : 'Table name'}
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
        </label>
      </div>
      {files ? (
        <FileRows backupId={backupId} entries={page.entries} searching={Boolean(q)} open={setPath} chosen={chosen} toggle={toggle} />
      ) : (
        <TableRows backupId={backupId} entries={page.entries} chosen={chosen} toggle={toggle} exportable={!database} />
      )}
      {page.next_cursor && (
        <div className="list-more">
          <Button variant="ghost" onClick={() => void loadMore()} disabled={more.loading}>
            {more.loading ? 'Loading…' : `Show more (${(page.total - page.entries.length).toLocaleString()} left)`}
          </Button>
        </div>
      )}
    </Card>
  );
}

function FileRows({
  backupId,
  entries,
  searching,
  open,
  chosen,
  toggle,
}: {
  backupId: string;
  entries: BackupEntryItem[];
  searching: boolean;
  open(path: string): void;
  chosen: string[];
  toggle(path: string): void;
}) {
  return (
    <DataTable label="Files in this backup" columns={['', 'Name', 'Kind', 'Size', 'Modified']} actions flat>
      {entries.map((e) => (
        <tr key={e.path}>
          <td>
            <input type="checkbox" aria-label={`Choose ${e.path}`} checked={chosen.includes(e.path)} onChange={() => toggle(e.path)} />
          </td>
          <td className="break">
            {e.type === 'directory' ? (
              <button type="button" className="link-button" onClick={() => open(e.path)}>
                {e.name}/
              </button>
            ) : (
              e.name
            )}
            {searching && <div className="table__sub">{e.path}</div>}
            {e.link && <div className="table__sub">→ {e.link}</div>}
          </td>
          <td>{KIND[e.type] ?? e.type}</td>
          <td className="nowrap">{e.type === 'file' ? <Size bytes={e.size} /> : '—'}</td>
          <td className="nowrap">{e.mtime ? shortDateTime(e.mtime) : '—'}</td>
          <td className="nowrap">
            {e.type === 'file' && (
              <a href={`./api/backups/${backupId}/file?path=${encodeURIComponent(e.path)}`} download={e.name} aria-label={`Download ${e.path}`}>
                Download
              </a>
            )}
          </td>
        </tr>
      ))}
    </DataTable>
  );
}

/** A database backup's objects: its tables can be ticked (restored together, with what they need) or exported as CSV. */
function TableRows({
  backupId,
  entries,
  chosen,
  toggle,
  exportable,
}: {
  backupId: string;
  entries: BackupEntryItem[];
  chosen: string[];
  toggle(path: string): void;
  /** The CSV export reads a one-database backup (a server's backup has one artifact per database). */
  exportable: boolean;
}) {
  return (
    <DataTable label="Tables in this backup" columns={['', 'Name', 'Kind', 'Rows', 'Size']} actions flat>
      {entries.map((e) => (
        <tr key={`${e.type} ${e.path}`}>
          <td>
            {e.type === 'TABLE' && <input type="checkbox" aria-label={`Choose ${e.path}`} checked={chosen.includes(e.path)} onChange={() => toggle(e.path)} />}
          </td>
          <td className="break">
            {e.name}
            {e.schema && <div className="table__sub">{e.schema}</div>}
          </td>
          <td>{e.type.charAt(0) + e.type.slice(1).toLowerCase()}</td>
          <td className="nowrap">{e.rows !== null && e.rows >= 0 ? e.rows.toLocaleString() : '—'}</td>
          <td className="nowrap">{e.size !== null ? <Size bytes={e.size} /> : '—'}</td>
          <td className="nowrap">
            {e.type === 'TABLE' && exportable && (
              <a
                href={`./api/backups/${backupId}/table.csv?name=${encodeURIComponent(e.path)}`}
                download={`${e.name}.csv`}
                aria-label={`Export ${e.path} as CSV`}
              >
                Export CSV
              </a>
            )}
          </td>
        </tr>
      ))}
    </DataTable>
  );
}
