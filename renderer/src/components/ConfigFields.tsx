import { api } from '../api.js';
import { SAVED_SECRET_PLACEHOLDER, secretIsSet, type ConfigField, type ConfigValues } from '../config-fields.js';
import type { Validation } from '../forms.js';
import { Checkbox, SelectField, TextArea, TextField } from './fields.js';
import { Button } from './ui.js';

/**
 * The inputs of one type's `connection_config` / `config`. Errors come from the shared schema at
 * `<prefix>.<key>`, the same path the server names in `error.issues`.
 */
export function ConfigFields({
  idPrefix,
  pathPrefix,
  fields,
  values,
  stored,
  validation,
  onChange,
}: {
  idPrefix: string;
  pathPrefix: string;
  fields: ConfigField[];
  values: ConfigValues;
  /** The saved (masked) config when editing: tells which secrets are stored. */
  stored?: Record<string, unknown>;
  validation: Validation;
  onChange(key: string, value: string | boolean): void;
}) {
  return (
    <div className="form-grid">
      {fields.map((f) => {
        const id = `${idPrefix}-${f.key.replaceAll('_', '-')}`;
        const path = `${pathPrefix}.${f.key}`;
        const common = {
          id,
          label: f.label,
          error: validation.errorFor(path),
          hint: f.hint,
          required: f.required,
          className: f.wide || f.kind === 'lines' || f.kind === 'multiline' || f.kind === 'secret-text' ? 'form-grid__wide' : undefined,
        };
        const change = (value: string | boolean) => {
          validation.edited(path);
          onChange(f.key, value);
        };
        const blur = () => validation.touch(path);
        const saved = secretIsSet(stored, f.key);

        switch (f.kind) {
          case 'checkbox':
            return (
              <div key={f.key} className="form-grid__wide">
                <Checkbox id={id} label={f.label} hint={f.hint} checked={values[f.key] === true} onChange={change} />
              </div>
            );
          case 'select':
            return <SelectField key={f.key} {...common} value={String(values[f.key] ?? '')} options={f.options ?? []} onChange={change} onBlur={blur} />;
          case 'multiline':
          case 'lines':
            return (
              <TextArea
                key={f.key}
                {...common}
                rows={3}
                monospace
                value={String(values[f.key] ?? '')}
                placeholder={f.placeholder}
                onChange={change}
                onBlur={blur}
              />
            );
          case 'secret-text':
            return (
              <TextArea
                key={f.key}
                {...common}
                rows={4}
                monospace
                value={String(values[f.key] ?? '')}
                placeholder={saved ? SAVED_SECRET_PLACEHOLDER : f.placeholder}
                onChange={change}
                onBlur={blur}
              />
            );
          case 'readonly': {
            const value = String(stored?.[f.key] ?? '');
            if (!value) return null;
            return <TextField key={f.key} {...common} value={value} readOnly monospace onChange={() => undefined} />;
          }
          default:
            return (
              <TextField
                key={f.key}
                {...common}
                type={f.kind === 'secret' ? 'password' : f.kind === 'number' ? 'number' : 'text'}
                autoComplete={f.kind === 'secret' ? 'new-password' : 'off'}
                monospace={f.monospace}
                value={String(values[f.key] ?? '')}
                placeholder={f.kind === 'secret' && saved ? SAVED_SECRET_PLACEHOLDER : f.placeholder}
                onChange={change}
                onBlur={blur}
                addon={
                  f.browse && api.capabilities.nativeDialogs && api.pickPath ? <BrowseButton kind={f.browse} label={f.label} onPick={change} /> : undefined
                }
              />
            );
        }
      })}
    </div>
  );
}

/** Desktop only: the native dialog fills a path field. */
export function BrowseButton({ kind, label, onPick }: { kind: 'folder' | 'file' | 'save'; label: string; onPick(path: string): void }) {
  return (
    <Button
      onClick={async () => {
        const path = await api.pickPath?.({ kind, title: label });
        if (path) onPick(path);
      }}
    >
      Browse…
    </Button>
  );
}
