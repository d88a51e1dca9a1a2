import { useEffect, useState, type ComponentType, type ReactNode } from 'react';
import { errorMessage } from '../api.js';
import { ArrowLeftIcon } from './icons.js';
import { ErrorBanner, Loading, PageHeader } from './ui.js';

/** What an add/edit form is given: the stored entity when editing, and the link back to its list. */
export interface FormProps<T> {
  stored?: T | undefined;
  back: ReactNode;
}

/** The entity to edit, fetched once per id; `get` must keep its identity (define it at module level). */
function useStored<T>(get: (id: string) => Promise<T>, id: string | undefined) {
  const [stored, setStored] = useState<T | undefined>();
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!id) return;
    get(id).then(setStored, (e: unknown) => setError(errorMessage(e)));
  }, [get, id]);
  return { stored, error };
}

/**
 * The page of an add/edit form. With an id it loads that entity first (and says so, or why it could not);
 * then the form starts from it, keyed by it so that opening another entity starts afresh.
 */
export function EditPage<T extends { id: string }>({
  id,
  get,
  list,
  title,
  what,
  waitingFor,
  form: Form,
}: {
  id: string | undefined;
  get(id: string): Promise<T>;
  list: { href: string; label: string };
  /** The header until the form shows. */
  title: string;
  /** The entity in the user's words: "Loading job…", "Could not open this job". */
  what: string;
  /** Something else the form needs first, in the user's words; undefined once it is there. */
  waitingFor?: string | undefined;
  form: ComponentType<FormProps<T>>;
}) {
  const { stored, error } = useStored(get, id);
  const back = (
    <a className="back-link" href={list.href}>
      <ArrowLeftIcon size={16} />
      {` ${list.label}`}
    </a>
  );
  const loading = id ? (!stored || waitingFor ? what : undefined) : waitingFor;

  if (id && error) {
    return (
      <>
        <PageHeader title={title} back={back} />
        <ErrorBanner title={`Could not open this ${what}`}>{error}</ErrorBanner>
      </>
    );
  }
  if (loading) {
    return (
      <>
        <PageHeader title={title} back={back} />
        <Loading what={loading} />
      </>
    );
  }
  return <Form key={stored?.id ?? 'new'} stored={stored} back={back} />;
}
