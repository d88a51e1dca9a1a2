import { useEffect, useRef, type ReactNode } from 'react';
import { bytes, exactBytes } from '../../../shared/format.js';
import { useStore } from '../store.js';
import { AlertIcon, CheckIcon, CloseIcon } from './icons.js';

type Tone = 'good' | 'warn' | 'bad' | 'neutral' | 'info';

const TONES: Record<string, Tone> = {
  healthy: 'good',
  ok: 'good',
  completed: 'good',
  // A whole server's backup where some databases failed: the others are complete.
  partial: 'warn',
  warning: 'warn',
  full: 'warn',
  timeout: 'warn',
  critical: 'bad',
  unreachable: 'bad',
  auth_failed: 'bad',
  error: 'bad',
  failed: 'bad',
  unknown: 'neutral',
  running: 'info',
  queued: 'info',
  pending: 'info',
};

const WORDS: Record<string, string> = { auth_failed: 'auth failed' };

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export function StatusBadge({ status, label }: { status: string; label?: string }) {
  const tone = TONES[status] ?? 'neutral';
  return (
    <span className={`badge badge--${tone}`} data-status={status}>
      <span className="badge__dot" aria-hidden="true" />
      {capitalize(label ?? WORDS[status] ?? status)}
    </span>
  );
}

export function Tag({ children }: { children: ReactNode }) {
  return <span className="tag">{children}</span>;
}

export function PageHeader({ title, subtitle, actions, back }: { title: string; subtitle?: ReactNode; actions?: ReactNode; back?: ReactNode }) {
  return (
    <header className="page-header">
      <div>
        {back}
        <h1 className="page-header__title">{title}</h1>
        {subtitle && <p className="page-header__subtitle">{subtitle}</p>}
      </div>
      {actions && <div className="page-header__actions">{actions}</div>}
    </header>
  );
}

export function EmptyState({ icon, title, children, action }: { icon: ReactNode; title: string; children: ReactNode; action?: ReactNode }) {
  return (
    <div className="empty">
      <div className="empty__icon">{icon}</div>
      <h2 className="empty__title">{title}</h2>
      <p className="empty__text">{children}</p>
      {action}
    </div>
  );
}

export function Spinner({ label }: { label?: string }) {
  return <span className="spinner" role={label ? 'status' : undefined} aria-label={label} />;
}

export function Loading({ what }: { what: string }) {
  return (
    <div className="loading" role="status">
      <Spinner />
      <span>Loading {what}…</span>
    </div>
  );
}

export function ErrorBanner({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="banner banner--error" role="alert">
      <AlertIcon size={18} />
      <div className="banner__body">
        <strong>{title}</strong>
        {children && <div className="banner__text">{children}</div>}
        {action && <div className="banner__actions">{action}</div>}
      </div>
    </div>
  );
}

/** A query that failed, with the way to ask again. */
export function LoadFailed({ what, error, retry }: { what: string; error: string; retry(): void }) {
  return (
    <ErrorBanner title={`Could not load ${what}`} action={<Button onClick={retry}>Try again</Button>}>
      {error}
    </ErrorBanner>
  );
}

export function Card({ title, description, children, actions }: { title?: string; description?: ReactNode; children: ReactNode; actions?: ReactNode }) {
  return (
    <section className="card">
      {(title || actions) && (
        <div className="card__head">
          <div>
            {title && <h2 className="card__title">{title}</h2>}
            {description && <p className="card__description">{description}</p>}
          </div>
          {actions}
        </div>
      )}
      <div className="card__body">{children}</div>
    </section>
  );
}

export function Button({
  children,
  variant = 'secondary',
  busy,
  disabled,
  type = 'button',
  onClick,
  size,
  title,
  ariaLabel,
  form,
}: {
  children: ReactNode;
  variant?: 'primary' | 'secondary' | 'danger' | 'ghost';
  busy?: boolean;
  disabled?: boolean;
  type?: 'button' | 'submit';
  onClick?: () => void;
  size?: 'sm';
  title?: string;
  ariaLabel?: string;
  form?: string;
}) {
  return (
    <button
      type={type}
      form={form}
      className={`btn btn--${variant} ${size ? `btn--${size}` : ''}`}
      disabled={disabled || busy}
      aria-busy={busy || undefined}
      onClick={onClick}
      title={title}
      aria-label={ariaLabel}
    >
      {busy && <span className="spinner spinner--inline" aria-hidden="true" />}
      {children}
    </button>
  );
}

/** A modal dialog on the native <dialog>: focus is trapped, and Escape or its × closes it. */
export function Modal({ title, children, footer, onClose }: { title: string; children: ReactNode; footer: ReactNode; onClose(): void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className="modal"
      aria-labelledby="modal-title"
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <div className="modal__head">
        <h2 id="modal-title" className="modal__title">
          {title}
        </h2>
        <button type="button" className="modal__close" aria-label="Close" title="Close (Esc)" onClick={onClose}>
          <CloseIcon size={16} />
        </button>
      </div>
      <div className="modal__body">{children}</div>
      <div className="modal__footer">{footer}</div>
    </dialog>
  );
}

export function Toasts() {
  const toasts = useStore((s) => s.toasts);
  const dismiss = useStore((s) => s.dismiss);
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast--${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'}>
          <span className="toast__icon">{t.kind === 'error' ? <AlertIcon /> : <CheckIcon />}</span>
          <span className="toast__text">{t.text}</span>
          <button type="button" className="toast__close" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
            <CloseIcon size={14} />
          </button>
        </div>
      ))}
    </div>
  );
}

export function KeyValue({ items }: { items: [string, ReactNode][] }) {
  return (
    <dl className="kv">
      {items.map(([k, v]) => (
        <div key={k} className="kv__row">
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A size in KB/MB/GB, the exact byte count in its tooltip. */
export function Size({ bytes: n }: { bytes: number | null | undefined }) {
  return (
    <span className="nowrap" title={exactBytes(n)}>
      {bytes(n)}
    </span>
  );
}
