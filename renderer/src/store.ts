import { create } from 'zustand';
import type { OutputOf } from '../../shared/contract.js';
import type { ExecutionProgress } from '../../shared/schemas/execution.js';
import type { Datasource } from '../../shared/schemas/datasource.js';
import type { Job } from '../../shared/schemas/job.js';
import type { Overview } from '../../shared/schemas/overview.js';
import type { Settings } from '../../shared/schemas/settings.js';
import type { StorageLocation } from '../../shared/schemas/storage.js';
import { api, errorMessage } from './api.js';

export interface Collection<T> {
  data: T | undefined;
  loading: boolean;
  error: string | null;
}

interface Toast {
  id: number;
  kind: 'success' | 'error' | 'info';
  text: string;
}

type SystemInfo = OutputOf<'system.info'>;

/** Activity's page: the newest runs, refreshed live; "Show older" adds the pages after it. */
const EXECUTIONS_PAGE = 200;
type Executions = OutputOf<'executions.list'>;

/** What each list is queried with; an `entity.changed` event names one of these. */
const queries = {
  datasources: () => api.run('datasources.list', {}),
  storages: () => api.run('storages.list', {}),
  jobs: () => api.run('jobs.list', {}),
  // Once older pages are shown, the refresh covers them too (up to the largest page), so no run falls between.
  executions: () =>
    api.run('executions.list', { limit: Math.min(500, Math.max(EXECUTIONS_PAGE, useStore.getState().olderExecutions.rows.length + EXECUTIONS_PAGE)) }),
  settings: () => api.run('settings.get', {}),
  info: () => api.run('system.info', {}),
  overview: () => api.run('overview.get', {}),
  unread: () => api.run('notifications.unreadCount', {}),
};
export type Resource = keyof typeof queries;

interface State {
  datasources: Collection<Datasource[]>;
  storages: Collection<StorageLocation[]>;
  jobs: Collection<Job[]>;
  executions: Collection<Executions>;
  /** Runs older than the newest page, loaded on demand; `end` once there are none left. */
  olderExecutions: { rows: Executions; end: boolean; loading: boolean };
  loadOlderExecutions(): Promise<void>;
  /** The latest progress of each running execution, from `execution.progress` events. */
  progress: Record<string, ExecutionProgress>;
  settings: Collection<Settings>;
  info: Collection<SystemInfo>;
  overview: Collection<Overview>;
  /** The bell's count. */
  unread: Collection<OutputOf<'notifications.unreadCount'>>;
  toasts: Toast[];
  load(resource: Resource): Promise<void>;
  loadAll(): Promise<void>;
  toast(kind: Toast['kind'], text: string): void;
  dismiss(id: number): void;
}

const empty = { data: undefined, loading: false, error: null };
let toastId = 0;

/** Each list's newest request: the answer to an older one is dropped, so a slow old answer never overwrites a newer one. */
const newestRequest: Partial<Record<Resource, number>> = {};
let requests = 0;

export const useStore = create<State>()((set, get) => ({
  datasources: empty,
  storages: empty,
  jobs: empty,
  executions: empty,
  olderExecutions: { rows: [], end: false, loading: false },
  progress: {},
  settings: empty,
  info: empty,
  overview: empty,
  unread: empty,
  toasts: [],

  async load(resource) {
    const request = ++requests;
    newestRequest[resource] = request;
    set((s) => ({ [resource]: { ...s[resource], loading: true } }) as Partial<State>);
    try {
      const data = await queries[resource]();
      if (newestRequest[resource] !== request) return;
      set({ [resource]: { data, loading: false, error: null } } as Partial<State>);
    } catch (e) {
      if (newestRequest[resource] !== request) return;
      set((s) => ({ [resource]: { ...s[resource], loading: false, error: errorMessage(e) } }) as Partial<State>);
    }
  },

  async loadOlderExecutions() {
    const { executions, olderExecutions } = get();
    const last = olderExecutions.rows.at(-1) ?? executions.data?.at(-1);
    if (!last || olderExecutions.loading) return;
    set({ olderExecutions: { ...olderExecutions, loading: true } });
    try {
      const page = await api.run('executions.list', { limit: EXECUTIONS_PAGE, before: last.id });
      set((s) => ({ olderExecutions: { rows: [...s.olderExecutions.rows, ...page], end: page.length < EXECUTIONS_PAGE, loading: false } }));
    } catch (e) {
      set((s) => ({ olderExecutions: { ...s.olderExecutions, loading: false } }));
      get().toast('error', errorMessage(e));
    }
  },

  async loadAll() {
    await Promise.all((Object.keys(queries) as Resource[]).map((r) => get().load(r)));
  },

  toast(kind, text) {
    const id = ++toastId;
    set((s) => ({ toasts: [...s.toasts, { id, kind, text }] }));
    // A success or a note goes by itself; a failure stays until it is dismissed.
    if (kind !== 'error') setTimeout(() => get().dismiss(id), 5000);
  },

  dismiss(id) {
    set((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) }));
  },
}));

export const toast = (kind: Toast['kind'], text: string) => useStore.getState().toast(kind, text);

type EntityName = 'datasource' | 'storage' | 'job' | 'settings' | 'execution';
const refreshFor: Record<EntityName, Resource[]> = {
  datasource: ['datasources', 'jobs', 'overview'],
  storage: ['storages'],
  job: ['jobs', 'overview'],
  settings: ['settings', 'overview'],
  execution: ['executions', 'jobs', 'overview'],
};

/** Runs started from this window, with what the toast at their end calls them ("Backup “Nightly shop”"). */
const watched = new Map<string, string>();

/** Announces the end of a run the user just started, once, with `what` it is. */
export function watchRun(executionId: string, what: string): void {
  watched.set(executionId, what);
}

/** Lists with a reload in flight; `true` once an event asked for another while it was. */
const reloading = new Map<Resource, boolean>();

/**
 * An event-driven reload: events come in bursts (a run's status, its follow-ups', the job's), so each
 * list has at most one request in flight and one more after it, which sees every change the burst made.
 */
function reload(resource: Resource): void {
  if (reloading.has(resource)) {
    reloading.set(resource, true);
    return;
  }
  reloading.set(resource, false);
  void useStore
    .getState()
    .load(resource)
    .finally(() => {
      const again = reloading.get(resource);
      reloading.delete(resource);
      if (again) reload(resource);
    });
}

/** Queries are the truth, events are hints: a change re-queries the lists it touches. */
export function startLiveUpdates(): () => void {
  const { loadAll } = useStore.getState();
  const load = reload;
  const offs = [
    api.on('entity.changed', ({ entity }) => {
      for (const r of refreshFor[entity]) load(r);
    }),
    api.on('execution.progress', (p) => useStore.setState((s) => ({ progress: { ...s.progress, [p.execution_id]: p } }))),
    api.on('execution.status', ({ execution_id, status, error_message }) => {
      load('executions');
      if (status !== 'running' && status !== 'queued') {
        load('jobs');
        load('overview');
        useStore.setState((s) => {
          const { [execution_id]: _, ...rest } = s.progress;
          return { progress: rest };
        });
      }
      // One toast per action of the user's, when it ends; follow-ups and scheduled runs stay in Activity.
      const what = watched.get(execution_id);
      if (what === undefined || status === 'running' || status === 'queued') return;
      watched.delete(execution_id);
      if (status === 'completed') toast('success', `${what} finished`);
      if (status === 'failed') toast('error', `${what} failed${error_message ? `: ${error_message}` : ''}`);
    }),
    api.on('notification.created', () => load('unread')),
    api.on('notification.read', () => load('unread')),
    api.onReconnect(() => void loadAll()),
  ];
  return () => offs.forEach((off) => off());
}
