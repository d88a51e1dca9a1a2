import { useState, type ComponentType, type ReactNode } from 'react';
import type { Result } from '../../../shared/errors.js';
import { navigate } from '../router.js';
import { toast, useStore, type Collection, type Resource } from '../store.js';
import { PlusIcon } from './icons.js';
import { DataTable } from './table.js';
import { Button, EmptyState, ErrorBanner, Loading, LoadFailed, Modal, PageHeader } from './ui.js';

interface Listed {
  id: string;
  name: string;
}

/**
 * A page listing one kind of entity from the store: its header with the Add button, the loading, failed
 * and empty states, the table, and the "Delete …?" dialog a row opens.
 */
export function ListPage<T extends Listed>({
  resource,
  collection,
  title,
  subtitle,
  what,
  add,
  empty,
  table,
  Row,
  deletion,
  headerExtra,
}: {
  resource: Resource;
  collection: Collection<T[]>;
  title: string;
  subtitle: string;
  /** The list in the user's words: "Loading backup jobs…", "Could not load backup jobs". */
  what: string;
  add: { label: string; path: string };
  /** `action` replaces the Add button, for a list that cannot have entries yet. */
  empty: { icon: ReactNode; title: string; text: ReactNode; action?: ReactNode };
  table: { label: string; columns: string[] };
  Row: ComponentType<{ item: T; onDelete(): void }>;
  deletion: { what: string; consequence: string; remove(id: string): Promise<Result<unknown>> };
  /** Shown in the header before the Add button (the Jobs page's Pause schedules switch). */
  headerExtra?: ReactNode;
}) {
  const { data, loading, error } = collection;
  const load = useStore((s) => s.load);
  const [deleting, setDeleting] = useState<T | null>(null);

  const addButton = (
    <Button variant="primary" onClick={() => navigate(add.path)}>
      <PlusIcon size={16} />
      {` ${add.label}`}
    </Button>
  );

  return (
    <>
      <PageHeader
        title={title}
        subtitle={subtitle}
        actions={
          headerExtra || data?.length ? (
            <>
              {headerExtra}
              {data?.length ? addButton : null}
            </>
          ) : undefined
        }
      />
      {error && <LoadFailed what={what} error={error} retry={() => load(resource)} />}
      {!data && loading && <Loading what={what} />}
      {data && data.length === 0 && (
        <EmptyState icon={empty.icon} title={empty.title} action={empty.action ?? addButton}>
          {empty.text}
        </EmptyState>
      )}
      {data && data.length > 0 && (
        <DataTable label={table.label} columns={table.columns} actions>
          {data.map((item) => (
            <Row key={item.id} item={item} onDelete={() => setDeleting(item)} />
          ))}
        </DataTable>
      )}
      {deleting && (
        <ConfirmDelete
          what={deletion.what}
          name={deleting.name}
          consequence={deletion.consequence}
          remove={() => deletion.remove(deleting.id)}
          onDeleted={() => void load(resource)}
          onClose={() => setDeleting(null)}
        />
      )}
    </>
  );
}

/** "Delete X?": deletes on confirm, or shows the server's refusal (e.g. a `conflict`) in place. */
function ConfirmDelete({
  what,
  name,
  consequence,
  remove,
  onDeleted,
  onClose,
}: {
  what: string;
  name: string;
  consequence: string;
  remove(): Promise<Result<unknown>>;
  onDeleted(): void;
  onClose(): void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function confirm() {
    setBusy(true);
    const result = await remove();
    setBusy(false);
    if (!result.ok) return setError(result.error.message);
    toast('success', `Deleted “${name}”`);
    onDeleted();
    onClose();
  }
  return (
    <Modal
      title={`Delete ${what} “${name}”?`}
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="danger" busy={busy} onClick={confirm}>
            Delete
          </Button>
        </>
      }
    >
      <p>{consequence}</p>
      {error && <ErrorBanner title="Could not delete">{error}</ErrorBanner>}
    </Modal>
  );
}
