import { useState, type ReactNode, type KeyboardEvent } from 'react';

interface FieldShell {
  id: string;
  label: string;
  error?: string | undefined;
  hint?: ReactNode;
  required?: boolean;
  className?: string;
  /** A tooltip on the label (Settings: the key a script sets). */
  title?: string;
}

function Shell({ id, label, error, hint, required, className, title, children }: FieldShell & { children: ReactNode }) {
  return (
    <div className={`field ${error ? 'field--invalid' : ''} ${className ?? ''}`}>
      {/* The marker stays outside the label: the label's text is the field's name, nothing more. */}
      <div className="field__top">
        <label htmlFor={id} className="field__label" title={title}>
          {label}
        </label>
        {required && (
          <span className="field__required" aria-hidden="true">
            *
          </span>
        )}
      </div>
      {children}
      {error ? (
        <p id={`${id}-error`} className="field__error">
          {error}
        </p>
      ) : hint ? (
        <p id={`${id}-hint`} className="field__hint">
          {hint}
        </p>
      ) : null}
    </div>
  );
}

const describedBy = (id: string, error?: string, hint?: ReactNode) => (error ? `${id}-error` : hint ? `${id}-hint` : undefined);

interface TextFieldProps extends FieldShell {
  value: string;
  onChange(value: string): void;
  onBlur?(): void;
  type?: 'text' | 'password' | 'number' | 'url' | 'email';
  placeholder?: string;
  autoComplete?: string;
  disabled?: boolean;
  readOnly?: boolean;
  min?: number;
  max?: number;
  list?: string;
  /** Shown inside the input's row, after it (a "Browse…" button). */
  addon?: ReactNode;
  monospace?: boolean;
}

export function TextField(p: TextFieldProps) {
  return (
    <Shell {...p}>
      <div className="field__row">
        <input
          id={p.id}
          className={`input ${p.monospace ? 'input--mono' : ''}`}
          type={p.type ?? 'text'}
          value={p.value}
          placeholder={p.placeholder}
          autoComplete={p.autoComplete ?? 'off'}
          disabled={p.disabled}
          readOnly={p.readOnly}
          min={p.min}
          max={p.max}
          list={p.list}
          spellCheck={false}
          aria-invalid={p.error ? true : undefined}
          aria-describedby={describedBy(p.id, p.error, p.hint)}
          aria-required={p.required || undefined}
          onChange={(e) => p.onChange(e.target.value)}
          onBlur={p.onBlur}
        />
        {p.addon}
      </div>
    </Shell>
  );
}

interface TextAreaProps extends FieldShell {
  value: string;
  onChange(value: string): void;
  onBlur?(): void;
  placeholder?: string;
  rows?: number;
  monospace?: boolean;
  disabled?: boolean;
}

export function TextArea(p: TextAreaProps) {
  return (
    <Shell {...p}>
      <textarea
        id={p.id}
        className={`input textarea ${p.monospace ? 'input--mono' : ''}`}
        value={p.value}
        rows={p.rows ?? 4}
        placeholder={p.placeholder}
        spellCheck={false}
        disabled={p.disabled}
        aria-invalid={p.error ? true : undefined}
        aria-describedby={describedBy(p.id, p.error, p.hint)}
        onChange={(e) => p.onChange(e.target.value)}
        onBlur={p.onBlur}
      />
    </Shell>
  );
}

interface SelectFieldProps extends FieldShell {
  value: string;
  onChange(value: string): void;
  onBlur?(): void;
  options: { value: string; label: string }[];
  placeholder?: string;
  disabled?: boolean;
}

export function SelectField(p: SelectFieldProps) {
  return (
    <Shell {...p}>
      <select
        id={p.id}
        className="input select"
        value={p.value}
        disabled={p.disabled}
        aria-invalid={p.error ? true : undefined}
        aria-describedby={describedBy(p.id, p.error, p.hint)}
        onChange={(e) => p.onChange(e.target.value)}
        onBlur={p.onBlur}
      >
        {p.placeholder !== undefined && (
          <option value="" disabled>
            {p.placeholder}
          </option>
        )}
        {p.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </Shell>
  );
}

interface CheckboxProps {
  id: string;
  label: string;
  checked: boolean;
  onChange(checked: boolean): void;
  hint?: ReactNode;
  disabled?: boolean;
}

export function Checkbox(p: CheckboxProps) {
  return (
    <div className="check">
      <input
        id={p.id}
        type="checkbox"
        className="check__box"
        checked={p.checked}
        disabled={p.disabled}
        aria-describedby={p.hint ? `${p.id}-hint` : undefined}
        onChange={(e) => p.onChange(e.target.checked)}
      />
      <div>
        <label htmlFor={p.id} className="check__label">
          {p.label}
        </label>
        {p.hint && (
          <p id={`${p.id}-hint`} className="field__hint">
            {p.hint}
          </p>
        )}
      </div>
    </div>
  );
}

/**
 * An on/off switch; its accessible name says what "on" means. `text` is shown beside it (e.g. the state
 * it is in); without it the switch stands alone, as in a table row.
 */
export function Switch(p: { label: string; checked: boolean; onChange(checked: boolean): void; disabled?: boolean; text?: ReactNode }) {
  return (
    <label className="switch">
      <input type="checkbox" role="switch" aria-label={p.label} checked={p.checked} disabled={p.disabled} onChange={(e) => p.onChange(e.target.checked)} />
      <span className="switch__track" aria-hidden="true">
        <span className="switch__thumb" />
      </span>
      {p.text && (
        <span className="switch__text" aria-hidden="true">
          {p.text}
        </span>
      )}
    </label>
  );
}

interface Choice<V extends string> {
  value: V;
  label: string;
  description?: string;
  icon?: ReactNode;
}

/** Radio buttons drawn as cards: a type picker, a strategy. */
export function ChoiceCards<V extends string>(p: {
  name: string;
  legend: string;
  value: V;
  choices: Choice<V>[];
  onChange(value: V): void;
  compact?: boolean;
}) {
  return (
    <fieldset className="choices">
      <legend className="field__label">{p.legend}</legend>
      <div className={`choices__grid ${p.compact ? 'choices__grid--compact' : ''}`}>
        {p.choices.map((c) => {
          const id = `${p.name}-${c.value}`;
          return (
            <div key={c.value} className={`choice ${p.value === c.value ? 'choice--selected' : ''}`}>
              <input
                type="radio"
                id={id}
                name={p.name}
                value={c.value}
                checked={p.value === c.value}
                onChange={() => p.onChange(c.value)}
                aria-describedby={c.description ? `${id}-desc` : undefined}
              />
              <label htmlFor={id}>
                {c.icon && <span className="choice__icon">{c.icon}</span>}
                <span className="choice__label">{c.label}</span>
              </label>
              {c.description && (
                <span id={`${id}-desc`} className="choice__desc">
                  {c.description}
                </span>
              )}
            </div>
          );
        })}
      </div>
    </fieldset>
  );
}

/** Free-form words as chips: Enter or comma adds one, Backspace on an empty input removes the last. */
export function ChipsField(p: FieldShell & { values: string[]; onChange(values: string[]): void; placeholder?: string }) {
  const [draft, setDraft] = useState('');
  const add = () => {
    const word = draft.trim().replace(/,$/, '').trim();
    if (word && !p.values.includes(word)) p.onChange([...p.values, word]);
    setDraft('');
  };
  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter' || e.key === ',') {
      e.preventDefault();
      add();
    } else if (e.key === 'Backspace' && draft === '' && p.values.length) {
      p.onChange(p.values.slice(0, -1));
    }
  };
  return (
    <Shell {...p}>
      <div className="chips input" aria-invalid={p.error ? true : undefined}>
        {p.values.map((v) => (
          <span key={v} className="chip">
            {v}
            <button type="button" className="chip__remove" aria-label={`Remove ${v}`} onClick={() => p.onChange(p.values.filter((x) => x !== v))}>
              ×
            </button>
          </span>
        ))}
        <input
          id={p.id}
          className="chips__input"
          value={draft}
          placeholder={p.values.length ? '' : p.placeholder}
          aria-describedby={describedBy(p.id, p.error, p.hint)}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={onKey}
          onBlur={add}
        />
      </div>
    </Shell>
  );
}
