import { useState } from 'react';
import type { StorageLocation } from '../../../shared/schemas/storage.js';
import { api } from '../api.js';
import { StarIcon, StorageIcon } from '../components/icons.js';
import { ListPage } from '../components/ListPage.js';
import { editAndDelete, RowActions } from '../components/row-actions.js';
import { Button, Size, StatusBadge } from '../components/ui.js';
import { counted, gigabytes } from '../../../shared/format.js';
import { STORAGE_TYPE_ICONS, STORAGE_TYPE_LABELS, storageWhere } from '../labels.js';
import { toast, useStore } from '../store.js';

export function StoragesPage() {
  return (
    <ListPage
      resource="storages"
      collection={useStore((s) => s.storages)}
      title="Storage"
      subtitle="Where backups are kept. A job can write to several, in order."
      what="storage locations"
      add={{ label: 'Add storage', path: '/storages/new' }}
      empty={{
        icon: <StorageIcon size={28} />,
        title: 'No storage yet',
        text: 'Add a local folder, an SFTP server or an S3-compatible bucket. Backups are plain files you can restore even without DataGuardian.',
      }}
      table={{ label: 'Storage locations', columns: ['Name', 'Type', 'Health', 'Our backups', 'Free space'] }}
      Row={StorageRow}
      deletion={{
        what: 'storage',
        consequence: 'DataGuardian forgets this location. The backup files already there are not deleted.',
        remove: (id) => api.call('storages.delete', { id }),
      }}
    />
  );
}

function StorageRow({ item: s, onDelete }: { item: StorageLocation; onDelete(): void }) {
  const load = useStore((st) => st.load);
  const [testing, setTesting] = useState(false);
  const [defaulting, setDefaulting] = useState(false);

  async function test() {
    setTesting(true);
    const result = await api.call('storages.test', { id: s.id });
    setTesting(false);
    if (!result.ok) toast('error', result.error.message);
    else if (result.data.ok)
      toast('success', `${s.name} is reachable (${result.data.latency_ms ?? '?'} ms, ${gigabytes(result.data.available_space_gb)} free)`);
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
      <td>
        {s.backups_count ? (
          <>
            <Size bytes={s.used_bytes} />
            <div className="table__sub">{counted(s.backups_count, 'backup')}</div>
          </>
        ) : (
          <span className="muted">None yet</span>
        )}
      </td>
      <td title={s.type === 's3' || s.type === 'minio' || s.type === 'backblaze' ? 'A bucket does not say how much room it has left' : undefined}>
        {s.available_space_gb === null ? <span className="muted">Not told</span> : gigabytes(s.available_space_gb)}
      </td>
      <RowActions
        menu={{
          label: `Actions for ${s.name}`,
          items: [
            !s.is_default && { label: 'Set as default', onSelect: makeDefault, disabled: defaulting },
            ...editAndDelete(`/storages/${s.id}/edit`, onDelete),
          ],
        }}
      >
        <Button size="sm" variant="ghost" busy={testing} onClick={test} ariaLabel={`Test: ${s.name}`}>
          Test
        </Button>
      </RowActions>
    </tr>
  );
}
