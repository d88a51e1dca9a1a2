import { useState } from 'react';
import type { Datasource } from '../../../shared/schemas/datasource.js';
import { api } from '../api.js';
import { Switch } from '../components/fields.js';
import { DatabaseIcon, PlusIcon } from '../components/icons.js';
import { Button, ConfirmDelete, EmptyState, ErrorBanner, Loading, PageHeader, StatusBadge, Tag } from '../components/ui.js';
import { dateTime, fromNow } from '../format.js';
import { DATASOURCE_TYPE_ICONS, DATASOURCE_TYPE_LABELS, datasourceWhere } from '../labels.js';
import { navigate } from '../router.js';
import { toast, useStore } from '../store.js';

export function DatasourcesPage() {
  const { data, loading, error } = useStore((s) => s.datasources);
  const load = useStore((s) => s.load);
  const [deleting, setDeleting] = useState<Datasource | null>(null);

  const add = (
    <Button variant="primary" onClick={() => navigate('/datasources/new')}>
      <PlusIcon size={16} /> Add datasource
    </Button>
  );

  return (
    <>
      <PageHeader title="Datasources" subtitle="Databases and folders DataGuardian watches and backs up." actions={data?.length ? add : undefined} />
      {error && (
        <ErrorBanner title="Could not load datasources" action={<Button onClick={() => load('datasources')}>Try again</Button>}>
          {error}
        </ErrorBanner>
      )}
      {!data && loading && <Loading what="datasources" />}
      {data && data.length === 0 && (
        <EmptyState icon={<DatabaseIcon size={28} />} title="No datasources yet" action={add}>
          Add the PostgreSQL, MySQL, MongoDB, SQL Server or SQLite database — or the folder — you want to protect.
          DataGuardian checks it can connect before saving.
        </EmptyState>
      )}
      {data && data.length > 0 && (
        <div className="table-wrap">
          <table className="table" aria-label="Datasources">
            <thead>
              <tr>
                <th>Name</th>
                <th>Type</th>
                <th>Status</th>
                <th>Last check</th>
                <th>Tags</th>
                <th>Enabled</th>
                <th className="table__actions-head">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.map((d) => (
                <DatasourceRow key={d.id} datasource={d} onDelete={() => setDeleting(d)} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {deleting && (
        <ConfirmDelete
          what="datasource"
          name={deleting.name}
          consequence="Its health history goes with it. Backups already on your storages are kept."
          remove={() => api.call('datasources.delete', { id: deleting.id })}
          onDeleted={() => void load('datasources')}
          onClose={() => setDeleting(null)}
        />
      )}
    </>
  );
}

function DatasourceRow({ datasource: d, onDelete }: { datasource: Datasource; onDelete(): void }) {
  const load = useStore((s) => s.load);
  const [checking, setChecking] = useState(false);
  const [toggling, setToggling] = useState(false);

  async function toggle(enabled: boolean) {
    setToggling(true);
    const result = await api.call('datasources.update', { id: d.id, enabled });
    setToggling(false);
    if (result.ok) toast('success', `${d.name} ${enabled ? 'enabled' : 'disabled'}`);
    else toast('error', result.error.message);
    void load('datasources');
  }

  async function check() {
    setChecking(true);
    const result = await api.call('datasources.healthCheck', { id: d.id });
    setChecking(false);
    if (!result.ok) toast('error', result.error.message);
    else if (result.data.status === 'ok') toast('success', `${d.name} answered in ${result.data.latency_ms ?? '?'} ms`);
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
        <Switch label={`Enabled: ${d.name}`} checked={d.enabled} disabled={toggling} onChange={toggle} />
      </td>
      <td className="table__actions">
        <Button size="sm" variant="ghost" busy={checking} onClick={check} ariaLabel={`Check ${d.name} now`}>
          Check now
        </Button>
        <Button size="sm" variant="ghost" onClick={() => navigate(`/datasources/${d.id}/edit`)} ariaLabel={`Edit ${d.name}`}>
          Edit
        </Button>
        <Button size="sm" variant="ghost" onClick={onDelete} ariaLabel={`Delete ${d.name}`}>
          Delete
        </Button>
      </td>
    </tr>
  );
}
