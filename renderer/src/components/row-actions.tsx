import { useEffect, useId, useLayoutEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import type { Result } from '../../../shared/errors.js';
import { navigate } from '../router.js';
import { toast, useStore, type Resource } from '../store.js';
import { Switch } from './fields.js';
import { MoreIcon } from './icons.js';

/** One entry of a row's "⋯" menu; `false`/`null` entries are left out, so callers can write `cond && {...}`. */
export interface MenuItem {
  label: string;
  onSelect(): void;
  /** Deletes or replaces something: drawn in red. */
  danger?: boolean;
  disabled?: boolean;
}

/**
 * The "⋯" button of a row and its menu: the row's less frequent actions, so every row fits at 1280 px
 * with its main action in view. A WAI-ARIA menu button: Enter, Space or ↓ open it on the first item,
 * ↑/↓/Home/End move, Escape and Tab close it, focus returns to the button. The menu is placed in the
 * viewport (fixed), so a table's frame never clips it.
 */
export function RowMenu({ label, items, inHeader }: { label: string; items: (MenuItem | false | null | undefined)[]; inHeader?: boolean }) {
  const shown = items.filter((i): i is MenuItem => Boolean(i));
  const [open, setOpen] = useState(false);
  const [place, setPlace] = useState<{ top: number; right: number } | null>(null);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLUListElement>(null);
  const id = useId();

  const close = (refocus: boolean) => {
    setOpen(false);
    setPlace(null);
    if (refocus) button.current?.focus();
  };

  useLayoutEffect(() => {
    if (!open || !button.current) return;
    const r = button.current.getBoundingClientRect();
    const height = menu.current?.offsetHeight ?? 0;
    // Below the button, or above it when the window has no room left under it.
    const below = r.bottom + 4 + height <= window.innerHeight;
    setPlace({ top: below ? r.bottom + 4 : Math.max(4, r.top - 4 - height), right: window.innerWidth - r.right });
  }, [open]);

  // Once placed (a hidden menu takes no focus), the first entry gets it.
  useEffect(() => {
    if (open && place) menu.current?.querySelector<HTMLButtonElement>('[role="menuitem"]:not(:disabled)')?.focus();
  }, [open, place]);

  useEffect(() => {
    if (!open) return;
    const outside = (e: Event) => {
      if (!menu.current?.contains(e.target as Node) && !button.current?.contains(e.target as Node)) close(false);
    };
    const away = () => close(false);
    document.addEventListener('pointerdown', outside);
    window.addEventListener('resize', away);
    window.addEventListener('scroll', away, true);
    return () => {
      document.removeEventListener('pointerdown', outside);
      window.removeEventListener('resize', away);
      window.removeEventListener('scroll', away, true);
    };
  }, [open]);

  function onMenuKey(e: KeyboardEvent) {
    const entries = [...(menu.current?.querySelectorAll<HTMLButtonElement>('[role="menuitem"]:not(:disabled)') ?? [])];
    const at = entries.indexOf(document.activeElement as HTMLButtonElement);
    const go = (n: number) => entries[(n + entries.length) % entries.length]?.focus();
    if (e.key === 'ArrowDown') go(at + 1);
    else if (e.key === 'ArrowUp') go(at - 1);
    else if (e.key === 'Home') go(0);
    else if (e.key === 'End') go(entries.length - 1);
    else if (e.key === 'Escape') close(true);
    else if (e.key === 'Tab') return close(false);
    else return;
    e.preventDefault();
  }

  if (shown.length === 0) return null;
  return (
    <>
      <button
        ref={button}
        type="button"
        className={`btn btn--icon ${inHeader ? 'btn--secondary btn--icon-lg' : 'btn--ghost btn--sm'}`}
        aria-label={label}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        title={label}
        onClick={() => (open ? close(false) : setOpen(true))}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown' && !open) {
            e.preventDefault();
            setOpen(true);
          }
        }}
      >
        <MoreIcon size={16} />
      </button>
      {open && (
        <ul
          ref={menu}
          id={id}
          role="menu"
          aria-label={label}
          className="menu"
          style={place ? { top: place.top, right: place.right } : { visibility: 'hidden' }}
          onKeyDown={onMenuKey}
        >
          {shown.map((item) => (
            <li key={item.label} role="none">
              <button
                type="button"
                role="menuitem"
                className={`menu__item ${item.danger ? 'menu__item--danger' : ''}`}
                disabled={item.disabled}
                onClick={() => {
                  close(true);
                  item.onSelect();
                }}
              >
                {item.label}
              </button>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/** The menu entries every list row ends with. */
export function editAndDelete(editPath: string, onDelete: () => void): MenuItem[] {
  return [
    { label: 'Edit', onSelect: () => navigate(editPath) },
    { label: 'Delete…', onSelect: onDelete, danger: true },
  ];
}

/** A row's actions cell: its main action(s) in view, the rest behind "⋯". */
export function RowActions({ children, menu }: { children?: ReactNode; menu?: { label: string; items: (MenuItem | false | null | undefined)[] } }) {
  return (
    <td className="table__actions">
      <div className="row-actions">
        {children}
        {menu && <RowMenu label={menu.label} items={menu.items} />}
      </div>
    </td>
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
