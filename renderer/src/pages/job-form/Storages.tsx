import { ChoiceCards } from '../../components/fields.js';
import { ArrowDownIcon, ArrowUpIcon, CloseIcon } from '../../components/icons.js';
import { STORAGE_TYPE_LABELS } from '../../labels.js';
import { useStore } from '../../store.js';
import type { SectionProps } from './draft.js';

/** Where the backups go: the chosen storages in the order they are tried, and what several of them mean. */
export function Storages({ draft, set, validation }: SectionProps) {
  const storages = useStore((s) => s.storages.data) ?? [];
  const setIds = set('storage_ids', 'storage_location_ids');
  const ids = draft.storage_ids;
  const available = storages.filter((s) => !ids.includes(s.id));
  const move = (i: number, by: -1 | 1) => {
    const next = [...ids];
    const [item] = next.splice(i, 1);
    next.splice(i + by, 0, item!);
    set('storage_ids')(next);
  };
  const error = validation.errorFor('storage_location_ids');

  return (
    <>
      <div className="form-grid__wide">
        <div className="field">
          <span className="field__label" id="job-storages-label">
            Storages{' '}
            <span className="field__required" aria-hidden="true">
              *
            </span>
          </span>
          {ids.length > 0 ? (
            <ol className="ordered-list" aria-labelledby="job-storages-label">
              {ids.map((id, i) => {
                const s = storages.find((st) => st.id === id);
                const name = s?.name ?? id;
                return (
                  <li key={id} className="ordered-list__item">
                    <span className="ordered-list__pos">{i + 1}</span>
                    <span className="ordered-list__name">
                      {s?.name ?? 'Deleted storage'}
                      {s && <span className="muted"> · {STORAGE_TYPE_LABELS[s.type]}</span>}
                    </span>
                    <span className="ordered-list__actions">
                      <button type="button" className="icon-btn" aria-label={`Move ${name} up`} disabled={i === 0} onClick={() => move(i, -1)}>
                        <ArrowUpIcon />
                      </button>
                      <button type="button" className="icon-btn" aria-label={`Move ${name} down`} disabled={i === ids.length - 1} onClick={() => move(i, 1)}>
                        <ArrowDownIcon />
                      </button>
                      <button type="button" className="icon-btn" aria-label={`Remove ${name}`} onClick={() => setIds(ids.filter((x) => x !== id))}>
                        <CloseIcon />
                      </button>
                    </span>
                  </li>
                );
              })}
            </ol>
          ) : (
            <p className="muted">No storage chosen yet.</p>
          )}
          {error && <p className="field__error">{error}</p>}
        </div>
        {available.length > 0 && (
          <div className="inline-add">
            <label htmlFor="job-add-storage" className="field__label">
              Add a storage
            </label>
            <select id="job-add-storage" className="input select" value="" onChange={(e) => e.target.value && setIds([...ids, e.target.value])}>
              <option value="">Choose…</option>
              {available.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name} ({STORAGE_TYPE_LABELS[s.type]})
                </option>
              ))}
            </select>
          </div>
        )}
        {storages.length === 0 && (
          <p className="field__hint">
            No storage exists yet: <a href="#/storages/new">add one</a> first.
          </p>
        )}
      </div>
      {ids.length > 1 && (
        <div className="form-grid__wide">
          <ChoiceCards
            name="job-strategy"
            legend="With several storages"
            compact
            value={draft.strategy}
            onChange={set('strategy')}
            choices={[
              { value: 'fallback', label: 'Fallback', description: 'Write to the first storage that works; the next ones are only used when it fails.' },
              { value: 'replicate', label: 'Replicate', description: 'Write to the first storage that works, then copy the backup to every other one.' },
            ]}
          />
        </div>
      )}
    </>
  );
}
