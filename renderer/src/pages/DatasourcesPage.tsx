import { useState } from 'react';
import type { Datasource } from '../../../shared/schemas/datasource.js';
import { api } from '../api.js';
import { DatabaseIcon } from '../components/icons.js';
import { ListPage } from '../components/ListPage.js';
import { editAndDelete, EnabledSwitch, RowActions } from '../components/row-actions.js';
import { Button, StatusBadge, Tag } from '../components/ui.js';
import { bytes, counted, dateTime, fromNow } from '../../../shared/format.js';
import { isFolder } from '../../../shared/words.js';
import { DATASOURCE_TYPE_ICONS, DATASOURCE_TYPE_LABELS, datasourceWhere } from '../labels.js';
import { toast, useStore } from '../store.js';

export function DatasourcesPage() {
  return (
    <ListPage
      resource="datasources"
      collection={useStore((s) => s.datasources)}
      title="Datasources"
      subtitle="Databases and folders DataGuardian watches and backs up."
      what="datasources"
      add={{ label: 'Add datasource', path: '/datasources/new' }}
      empty={{
        icon: <DatabaseIcon size={28} />,
        title: 'No datasources yet',
        text: 'Add the PostgreSQL, MySQL, MongoDB, SQL Server or SQLite database — or the folder — you want to protect. DataGuardian checks it can connect before saving.',
      }}
      table={{ label: 'Datasources', columns: ['Name', 'Type', 'Status', 'Last check', 'Tags', 'Enabled'] }}
      Row={DatasourceRow}
      deletion={{
        what: 'datasource',
        consequence: 'Its health history goes with it. Backups already on your storages are kept.',
        remove: (id) => api.call('datasources.delete', { id }),
      }}
    />
  );
}

function DatasourceRow({ item: d, onDelete }: { item: Datasource; onDelete(): void }) {
  const load = useStore((s) => s.load);
  const [checking, setChecking] = useState(false);

  async function check() {
    setChecking(true);
    const result = await api.call('datasources.healthCheck', { id: d.id });
    setChecking(false);
    if (!result.ok) toast('error', result.error.message);
    else if (result.data.status === 'ok') toast('success', checkedText(d, result.data.latency_ms, result.data.metadata));
    else toast('error', `${d.name}: ${result.data.error_message ?? result.data.status}`);
    void load('datasources');
  }

  return (
    <tr className={d.enabled ? '' : 'table__row--muted'}>
      <td>
        <a className="table__name" href={`#/datasources/${d.id}/edit`}>
          {d.name}
        </a>
        <div className="table__sub mono">{datasourceWhere(d.type, d.connection_config)}</div>
      </td>
      <td>
        <span className="type-cell">
          {DATASOURCE_TYPE_ICONS[d.type]}
          {DATASOURCE_TYPE_LABELS[d.type]}
        </span>
      </td>
      <td>
        <StatusBadge status={d.enabled ? d.status : 'unknown'} label={d.enabled ? undefined : 'disabled'} />
      </td>
      <td title={dateTime(d.last_health_check_at)}>{fromNow(d.last_health_check_at)}</td>
      <td>
        <div className="tags">{d.tags.length ? d.tags.map((t) => <Tag key={t}>{t}</Tag>) : <span className="muted">—</span>}</div>
      </td>
      <td>
        <EnabledSwitch name={d.name} enabled={d.enabled} resource="datasources" save={(enabled) => api.call('datasources.update', { id: d.id, enabled })} />
      </td>
      <RowActions menu={{ label: `Actions for ${d.name}`, items: editAndDelete(`/datasources/${d.id}/edit`, onDelete) }}>
        <Button size="sm" variant="ghost" busy={checking} onClick={check} ariaLabel={`Check now: ${d.name}`}>
          Check now
        </Button>
      </RowActions>
    </tr>
  );
}

/** A check that passed, in the datasource's words: a folder's contents, a server's answer time. */
function checkedText(d: Datasource, latencyMs: number | null, metadata: Record<string, unknown> | null): string {
  if (isFolder(d.type) && typeof metadata?.files === 'number' && typeof metadata.size_bytes === 'number') {
    return `${d.name} is readable: ${metadata.complete === false ? 'more than ' : ''}${counted(metadata.files, 'file')}, ${bytes(metadata.size_bytes)}`;
  }
  return `${d.name} answered in ${latencyMs ?? '?'} ms`;
}
