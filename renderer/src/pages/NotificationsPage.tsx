import { useCallback, useEffect, useState } from 'react';
import type { InputOf } from '../../../shared/contract.js';
import { NOTIFICATION_SEVERITIES, NOTIFICATION_TYPES } from '../../../shared/schemas/enums.js';
import type { Notification } from '../../../shared/schemas/notification.js';
import { api, errorMessage } from '../api.js';
import { BellIcon } from '../components/icons.js';
import { Button, EmptyState, Loading, LoadFailed, PageHeader, StatusBadge } from '../components/ui.js';
import { dateTime, fromNow } from '../../../shared/format.js';
import { notificationTypeLabel } from '../../../shared/words.js';
import { navigate, useRoute } from '../router.js';
import { toast, useStore } from '../store.js';

/** How many are fetched at a time; "Show more" asks for the next ones. */
const PAGE = 50;

const SEVERITY_STATUS: Record<Notification['severity'], string> = { critical: 'critical', warning: 'warning', info: 'unknown' };

/** The inbox: every notification, newest first, filtered by type, severity and unread (`#/notifications?type=…`). */
export function NotificationsPage() {
  const query = useRoute().query;
  const type = query.get('type') ?? '';
  const severity = query.get('severity') ?? '';
  const unreadOnly = query.get('unread') === 'true';
  const [items, setItems] = useState<Notification[] | undefined>();
  const [more, setMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const unread = useStore((s) => s.unread.data?.unread ?? 0);

  const input = useCallback(
    (offset: number): InputOf<'notifications.list'> => ({
      limit: PAGE,
      offset,
      ...(type ? { type: type as Notification['type'] } : {}),
      ...(severity ? { severity: severity as Notification['severity'] } : {}),
      ...(unreadOnly ? { unread: true } : {}),
    }),
    [type, severity, unreadOnly],
  );
  const matches = useCallback(
    (n: Notification) => (!type || n.type === type) && (!severity || n.severity === severity) && (!unreadOnly || !n.read_at),
    [type, severity, unreadOnly],
  );

  const loadFirst = useCallback(async () => {
    setError(null);
    try {
      const page = await api.run('notifications.list', input(0));
      setItems(page);
      setMore(page.length === PAGE);
    } catch (e) {
      setError(errorMessage(e));
    }
  }, [input]);

  useEffect(() => {
    setItems(undefined);
    void loadFirst();
  }, [loadFirst]);

  // A new one goes on top at once; the list is not re-queried, so the pages already shown stay.
  useEffect(
    () =>
      api.on('notification.created', (n) => {
        if (matches(n)) setItems((list) => (list && !list.some((i) => i.id === n.id) ? [n, ...list] : list));
      }),
    [matches],
  );
  useEffect(() => api.onReconnect(() => void loadFirst()), [loadFirst]);

  async function showMore() {
    if (!items) return;
    setBusy(true);
    try {
      const page = await api.run('notifications.list', input(items.length));
      // New ones arriving meanwhile shift the pages: skip any already shown.
      setItems((list) => [...(list ?? []), ...page.filter((n) => !list?.some((i) => i.id === n.id))]);
      setMore(page.length === PAGE);
    } catch (e) {
      toast('error', errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  async function markRead(ids?: string[]) {
    const result = await api.call('notifications.markRead', ids ? { ids } : {});
    if (!result.ok) return toast('error', result.error.message);
    const now = new Date().toISOString();
    setItems((list) => list?.map((n) => (!n.read_at && (!ids || ids.includes(n.id)) ? { ...n, read_at: now } : n)).filter(matches));
    void useStore.getState().load('unread');
  }

  const filter = (key: string, value: string) => {
    const next = new URLSearchParams(query);
    if (value) next.set(key, value);
    else next.delete(key);
    const q = next.toString();
    navigate(`/notifications${q ? `?${q}` : ''}`);
  };
  const filtered = Boolean(type || severity || unreadOnly);

  return (
    <>
      <PageHeader
        title="Notifications"
        subtitle={
          unread
            ? `${unread} unread. Failures, lost connections and finished work, newest first.`
            : 'Failures, lost connections and finished work, newest first.'
        }
        actions={
          <Button onClick={() => void markRead()} disabled={!unread}>
            Mark all read
          </Button>
        }
      />
      <div className="filters" role="group" aria-label="Filter notifications">
        <label className="filters__item">
          <span>Type</span>
          <select className="input select" aria-label="Type" value={type} onChange={(e) => filter('type', e.target.value)}>
            <option value="">Any type</option>
            {NOTIFICATION_TYPES.map((t) => (
              <option key={t} value={t}>
                {notificationTypeLabel(t)}
              </option>
            ))}
          </select>
        </label>
        <label className="filters__item">
          <span>Severity</span>
          <select className="input select" aria-label="Severity" value={severity} onChange={(e) => filter('severity', e.target.value)}>
            <option value="">Any severity</option>
            {NOTIFICATION_SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s.charAt(0).toUpperCase() + s.slice(1)}
              </option>
            ))}
          </select>
        </label>
        <label className="filters__item">
          <input type="checkbox" className="check__box" checked={unreadOnly} onChange={(e) => filter('unread', e.target.checked ? 'true' : '')} />
          <span>Unread only</span>
        </label>
      </div>
      {error && <LoadFailed what="the notifications" error={error} retry={() => void loadFirst()} />}
      {!items && !error && <Loading what="the notifications" />}
      {items && items.length === 0 && (
        <EmptyState icon={<BellIcon size={28} />} title={filtered ? 'No notification matches' : 'No notifications yet'}>
          {filtered
            ? 'Choose another type or severity above.'
            : 'DataGuardian tells you here when a backup fails or completes, when a database stops answering, and when a storage fills up.'}
        </EmptyState>
      )}
      {items && items.length > 0 && (
        <ul className="inbox" aria-label="Notifications">
          {items.map((n) => (
            <NotificationItem key={n.id} notification={n} onRead={() => void markRead([n.id])} />
          ))}
        </ul>
      )}
      {more && (
        <div className="inbox__more">
          <Button onClick={() => void showMore()} busy={busy}>
            Show more
          </Button>
        </div>
      )}
    </>
  );
}

function NotificationItem({ notification: n, onRead }: { notification: Notification; onRead(): void }) {
  const links = useLinks(n);
  return (
    <li className={`inbox__item ${n.read_at ? '' : 'inbox__item--unread'}`} aria-label={`${n.read_at ? '' : 'Unread: '}${n.title}`}>
      <div className="inbox__head">
        <StatusBadge status={SEVERITY_STATUS[n.severity]} label={n.severity} />
        <span className="inbox__type">{notificationTypeLabel(n.type)}</span>
        <span className="inbox__when" title={dateTime(n.created_at)}>
          {fromNow(n.created_at)}
        </span>
      </div>
      <div className="inbox__title">{n.title}</div>
      {n.message && <div className="inbox__message">{n.message}</div>}
      <div className="inbox__actions">
        {links.map((l) => (
          <a key={l.href} href={l.href}>
            {l.label}
          </a>
        ))}
        {!n.read_at && (
          <Button size="sm" variant="ghost" onClick={onRead} ariaLabel={`Mark “${n.title}” read`}>
            Mark read
          </Button>
        )}
      </div>
    </li>
  );
}

/** Where a notification leads: its datasource, job or storage (by name while it exists) and the run it is about. */
function useLinks(n: Notification): { label: string; href: string }[] {
  const datasource = useStore((s) => (n.entity_type === 'datasource' ? s.datasources.data?.find((d) => d.id === n.entity_id) : undefined));
  const job = useStore((s) => (n.entity_type === 'backup_job' ? s.jobs.data?.find((j) => j.id === n.entity_id) : undefined));
  const storage = useStore((s) => (n.entity_type === 'storage_location' ? s.storages.data?.find((d) => d.id === n.entity_id) : undefined));
  const links: { label: string; href: string }[] = [];
  if (datasource) links.push({ label: `Datasource “${datasource.name}”`, href: `#/datasources/${datasource.id}/edit` });
  if (job) links.push({ label: `Job “${job.name}”`, href: `#/jobs/${job.id}/edit` });
  if (storage) links.push({ label: `Storage “${storage.name}”`, href: `#/storages/${storage.id}/edit` });
  // Runs are named in metadata: the run itself, and for a verification or a restore the backup it read.
  const run = (id: unknown, label: string) => {
    if (typeof id === 'string' && /^[0-9a-f-]{36}$/i.test(id)) links.push({ label, href: `#/activity/${id}` });
  };
  run(n.metadata?.execution_id, 'Run details');
  run(n.metadata?.source_execution_id, 'The backup it used');
  return links;
}
