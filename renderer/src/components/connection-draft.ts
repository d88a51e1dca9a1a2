import { useMemo, useState } from 'react';
import { configFromValues, initialValues, type ConfigField, type ConfigValues } from '../config-fields.js';

/**
 * The draft of a datasource or storage: a type, the inputs of that type's connection, and whatever else
 * the form adds. `onStale` runs whenever the connection changes, since a test or a refusal of the old one
 * no longer says anything.
 */
export function useConnectionDraft<T extends string, D extends { type: T; config: ConfigValues }>(
  fieldsByType: Record<T, ConfigField[]>,
  initial: () => D,
  onStale: () => void,
) {
  const [draft, setDraft] = useState<D>(initial);
  const fields = fieldsByType[draft.type];
  const config = useMemo(() => configFromValues(fields, draft.config), [fields, draft.config]);
  // Editing re-tests the connection only when the connection itself changed.
  const [initialConfig] = useState(() => JSON.stringify(config));

  return {
    draft,
    setDraft,
    fields,
    config,
    configChanged: () => JSON.stringify(config) !== initialConfig,
    setConfig(key: string, value: string | boolean) {
      setDraft((d) => ({ ...d, config: { ...d.config, [key]: value } }));
      onStale();
    },
    /** Inputs the new type shares with the old one keep what was typed. */
    chooseType(type: T) {
      setDraft((d) => ({ ...d, type, config: initialValues(fieldsByType[type], d.config, fieldsByType[d.type]) }));
      onStale();
    },
  };
}
