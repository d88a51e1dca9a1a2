import { useState } from 'react';
import type { StorageLocation } from '../../../shared/schemas/storage.js';
import { api } from '../api.js';
import { PlusIcon, StarIcon, StorageIcon } from '../components/icons.js';
import { Button, ConfirmDelete, EmptyState, ErrorBanner, Loading, PageHeader, StatusBadge } from '../components/ui.js';
import { gigabytes } from '../format.js';
import { STORAGE_TYPE_ICONS, STORAGE_TYPE_LABELS, storageWhere } from '../labels.js';
import { navigate } from '../router.js';
import { toast, useStore } from '../store.js';

export function StoragesPage() {
  const { data, loading, error } = useStore((s) => s.storages);
  const load = useStore((s) => s.load);
  const [deleting, setDeleting] = useState<StorageLocation | null>(null);

  const add = (
    <Button variant="primary" onClick={() => navigate('/storages/new')}>
      <PlusIcon size={16} /> Add storage
    </Button>
  );

  return (
    <>
      <PageHeader title="Storage" subtitle="Where backups are kept. A job can write to several, in order." actions={data?.length ? add : undefined} />
      {error && (
        <ErrorBanner title="Could not load storage locations" action={<Button onClick={() => load('storages')}>Try again</Button>}>
          {error}
        </ErrorBanner>
      )}
      {!data && loading && <Loading what="storage locations" />}
      {data && data.length === 0 && (
        <EmptyState icon={<StorageIcon size={28} />} title="No storage yet" action={add}>
          Add a local folder, an SFTP server or an S3-compatible bucket. Backups are plain files you can restore even
          without DataGuardian.
        </EmptyState>
      )}
      {data && data.length > 0 && (
        <div className="table-wrap">
          <table className="table" aria-label="Storage locations">
            <thead>
              <tr>
                <th>Name</th>
                <th>Type</th>
                <th>Status</th>
                <th>Free space</th>
                <th className="table__actions-head">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.map((s) => (
                <StorageRow key={s.id} storage={s} onDelete={() => setDeleting(s)} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {deleting && (
        <ConfirmDelete
          what="storage"
          name={deleting.name}
          consequence="DataGuardian forgets this location. The backup files already there are not deleted."
          remove={() => api.call('storages.delete', { id: deleting.id })}
          onDeleted={() => void load('storages')}
          onClose={() => setDeleting(null)}
        />
      )}
    </>
  );
}

function StorageRow({ storage: s, onDelete }: { storage: StorageLocation; onDelete(): void }) {
  const load = useStore((st) => st.load);
  const [testing, setTesting] = useState(false);
  const [defaulting, setDefaulting] = useState(false);

  async function test() {
    setTesting(true);
    const result = await api.call('storages.test', { id: s.id });
    setTesting(false);
    if (!result.ok) toast('error', result.error.message);
    else if (result.data.ok) toast('success', `${s.name} is reachable (${result.data.latency_ms ?? '?'} ms, ${gigabytes(result.data.available_space_gb)} free)`);
    else toast('error', `${s.name}: ${result.data.message}`);
    void load('storages');
  }

  async function makeDefault() {
    setDefaulting(true);
    const result = await api.call('storages.update', { id: s.id, is_default: true });
    setDefaulting(false);
    if (result.ok) toast('success', `${s.name} is now the default storage`);
    else toast('error', result.error.message);
    void load('storages');
  }

  return (
    <tr>
      <td>
        <div className="name-with-star">
          {s.is_default ? (
            <span className="star star--on" title="Default storage" aria-label="Default storage" role="img">
              <StarIcon filled />
            </span>
          ) : (
            <button type="button" className="star" title="Set as default" aria-label={`Set ${s.name} as default`} onClick={makeDefault} disabled={defaulting}>
              <StarIcon />
            </button>
          )}
          <div>
            <a className="table__name" href={`#/storages/${s.id}/edit`}>
              {s.name}
            </a>
            {s.is_default && <span className="default-pill">Default</span>}
            <div className="table__sub mono">{storageWhere(s.type, s.config)}</div>
          </div>
        </div>
      </td>
      <td>
        <span className="type-cell">
          {STORAGE_TYPE_ICONS[s.type]}
          {STORAGE_TYPE_LABELS[s.type]}
        </span>
      </td>
      <td>
        <StatusBadge status={s.status} />
      </td>
      <td>{s.available_space_gb === null ? <span className="muted">Unknown</span> : gigabytes(s.available_space_gb)}</td>
      <td className="table__actions">
        <Button size="sm" variant="ghost" busy={testing} onClick={test} ariaLabel={`Test ${s.name}`}>
          Test
        </Button>
        {!s.is_default && (
          <Button size="sm" variant="ghost" busy={defaulting} onClick={makeDefault} ariaLabel={`Make ${s.name} the default`}>
            Set as default
          </Button>
        )}
        <Button size="sm" variant="ghost" onClick={() => navigate(`/storages/${s.id}/edit`)} ariaLabel={`Edit ${s.name}`}>
          Edit
        </Button>
        <Button size="sm" variant="ghost" onClick={onDelete} ariaLabel={`Delete ${s.name}`}>
          Delete
        </Button>
      </td>
    </tr>
  );
}
