import { useState, type ReactNode } from 'react';
import type { AppErrorShape, Result } from '../../../shared/errors.js';
import { ApiError } from '../api.js';
import type { Validation } from '../forms.js';
import { navigate } from '../router.js';
import { toast, useStore, type Resource } from '../store.js';
import { ChoiceCards } from './fields.js';
import { Button, Card, ErrorBanner } from './ui.js';

/** zod's safeParse answer, as far as saving needs it. */
type Parsed<D> = { success: true; data: D } | { success: false };

/**
 * Saving an add/edit form: nothing is sent while the form is invalid; once stored, the list is re-queried
 * and shown again; a refusal shows on its fields and above the buttons, unless `refused` handles it.
 */
export function useSave(validation: Pick<Validation, 'submit' | 'serverError'>, done: { resource: Resource; list: string; verb: string }) {
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);

  async function save<D>(parsed: Parsed<D>, send: (data: D) => Promise<Result<{ name: string }>>, refused?: (error: AppErrorShape) => boolean) {
    validation.submit();
    setSaveError(null);
    if (!parsed.success) return;
    setSaving(true);
    const result = await send(parsed.data);
    setSaving(false);
    if (result.ok) {
      toast('success', `${done.verb} “${result.data.name}”`);
      void useStore.getState().load(done.resource);
      navigate(done.list);
      return;
    }
    if (refused?.(result.error)) return;
    validation.serverError(new ApiError(result.error));
    setSaveError(result.error.message);
  }

  return { saving, saveError, save };
}

/** What stops a save: problems without a field of their own, then the server's refusal. */
export function FormProblems({ errors, saveError }: { errors: string[]; saveError: string | null }) {
  return (
    <>
      {errors.length > 0 && (
        <ErrorBanner title="Please fix these first">
          <ul className="plain-list">
            {errors.map((m) => (
              <li key={m}>{m}</li>
            ))}
          </ul>
        </ErrorBanner>
      )}
      {saveError && <ErrorBanner title="Could not save">{saveError}</ErrorBanner>}
    </>
  );
}

export function FormActions({ cancelTo, busy, submit }: { cancelTo: string; busy: boolean; submit: string }) {
  return (
    <div className="form-actions">
      <Button onClick={() => navigate(cancelTo)}>Cancel</Button>
      <Button type="submit" variant="primary" busy={busy}>
        {submit}
      </Button>
    </div>
  );
}

/** The type picker of a new datasource or storage; a stored one keeps its type. */
export function TypeCard<V extends string>({
  name,
  legend,
  value,
  types,
  labels,
  icons,
  onChange,
}: {
  name: string;
  legend: string;
  value: V;
  types: readonly V[];
  labels: Record<V, string>;
  icons: Record<V, ReactNode>;
  onChange(value: V): void;
}) {
  return (
    <Card title="Type">
      <ChoiceCards name={name} legend={legend} value={value} onChange={onChange} choices={types.map((t) => ({ value: t, label: labels[t], icon: icons[t] }))} />
    </Card>
  );
}
