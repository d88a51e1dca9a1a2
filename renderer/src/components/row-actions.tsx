import { useState } from 'react';
import type { Result } from '../../../shared/errors.js';
import { navigate } from '../router.js';
import { toast, useStore, type Resource } from '../store.js';
import { Switch } from './fields.js';
import { Button } from './ui.js';

/** The last two buttons of every list row. */
export function EditAndDelete({ name, editPath, onDelete }: { name: string; editPath: string; onDelete(): void }) {
  return (
    <>
      <Button size="sm" variant="ghost" onClick={() => navigate(editPath)} ariaLabel={`Edit ${name}`}>
        Edit
      </Button>
      <Button size="sm" variant="ghost" onClick={onDelete} ariaLabel={`Delete ${name}`}>
        Delete
      </Button>
    </>
  );
}

/** Turns a row's entity on or off in place; the list is re-queried either way, so it shows what was stored. */
export function EnabledSwitch({
  name,
  enabled,
  resource,
  save,
}: {
  name: string;
  enabled: boolean;
  resource: Resource;
  save(enabled: boolean): Promise<Result<unknown>>;
}) {
  const load = useStore((s) => s.load);
  const [toggling, setToggling] = useState(false);

  async function toggle(on: boolean) {
    setToggling(true);
    const result = await save(on);
    setToggling(false);
    if (result.ok) toast('success', `${name} ${on ? 'enabled' : 'disabled'}`);
    else toast('error', result.error.message);
    void load(resource);
  }

  return <Switch label={`Enabled: ${name}`} checked={enabled} disabled={toggling} onChange={toggle} />;
}
