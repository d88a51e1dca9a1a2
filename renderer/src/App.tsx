import { useEffect, type ReactNode } from 'react';
import { ActivityIcon, ArchiveIcon, BellIcon, ClockIcon, DatabaseIcon, GaugeIcon, GearIcon, ShieldIcon, StorageIcon } from './components/icons.js';
import { StatusBadge, Toasts } from './components/ui.js';
import { DatasourceFormPage } from './pages/DatasourceForm.js';
import { DatasourcesPage } from './pages/DatasourcesPage.js';
import { BackupsPage } from './pages/BackupsPage.js';
import { ExecutionPage } from './pages/ExecutionPage.js';
import { ExecutionsPage } from './pages/ExecutionsPage.js';
import { JobFormPage } from './pages/JobForm.js';
import { JobsPage } from './pages/JobsPage.js';
import { NotificationsPage } from './pages/NotificationsPage.js';
import { OverviewPage } from './pages/OverviewPage.js';
import { SettingsPage } from './pages/SettingsPage.js';
import { StorageFormPage } from './pages/StorageForm.js';
import { StoragesPage } from './pages/StoragesPage.js';
import { useRoute } from './router.js';
import { startLiveUpdates, useStore } from './store.js';

const NAV: { path: string; label: string; icon: ReactNode }[] = [
  { path: 'overview', label: 'Overview', icon: <GaugeIcon /> },
  { path: 'datasources', label: 'Datasources', icon: <DatabaseIcon /> },
  { path: 'storages', label: 'Storage', icon: <StorageIcon /> },
  { path: 'jobs', label: 'Backup jobs', icon: <ClockIcon /> },
  { path: 'backups', label: 'Backups', icon: <ArchiveIcon /> },
  { path: 'activity', label: 'Activity', icon: <ActivityIcon /> },
  { path: 'notifications', label: 'Notifications', icon: <BellIcon /> },
  { path: 'settings', label: 'Settings', icon: <GearIcon /> },
];

function Page({ route }: { route: string[] }) {
  const [section, id, action] = route;
  if (section === 'backups') return <BackupsPage datasourceId={id} />;
  if (section === 'activity') return id === 'job' ? <ExecutionsPage jobId={action} /> : id ? <ExecutionPage id={id} /> : <ExecutionsPage />;
  const editId = id && id !== 'new' && action === 'edit' ? id : undefined;
  const form = id === 'new' || editId !== undefined;
  switch (section) {
    case 'storages':
      return form ? <StorageFormPage id={editId} /> : <StoragesPage />;
    case 'jobs':
      return form ? <JobFormPage id={editId} /> : <JobsPage />;
    case 'settings':
      return <SettingsPage />;
    case 'notifications':
      return <NotificationsPage />;
    case 'datasources':
      return form ? <DatasourceFormPage id={editId} /> : <DatasourcesPage />;
    default:
      return <OverviewPage />;
  }
}

export function App() {
  const { path: route } = useRoute();
  const section = NAV.some((n) => n.path === route[0]) ? route[0] : 'overview';

  useEffect(() => {
    void useStore.getState().loadAll();
    return startLiveUpdates();
  }, []);

  const routeKey = route.join('/');
  useEffect(() => {
    const label = NAV.find((n) => n.path === section)?.label;
    document.title = label ? `${label} · DataGuardian` : 'DataGuardian';
    window.scrollTo(0, 0);
  }, [section, routeKey]);

  return (
    <div className="app">
      <aside className="sidebar">
        <div className="brand">
          <span className="brand__mark">
            <ShieldIcon size={20} />
          </span>
          <span className="brand__name">DataGuardian</span>
        </div>
        <nav aria-label="Main">
          <ul className="nav">
            {NAV.map((n) => (
              <li key={n.path}>
                <a
                  className={`nav__link ${section === n.path ? 'nav__link--active' : ''}`}
                  href={`#/${n.path}`}
                  aria-current={section === n.path ? 'page' : undefined}
                >
                  {n.icon}
                  <span>{n.label}</span>
                  <Count path={n.path} />
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <SidebarFooter />
      </aside>
      <main className="main">
        <div className="main__inner">
          <Page route={route} />
        </div>
      </main>
      <Toasts />
    </div>
  );
}

function Count({ path }: { path: string }) {
  const unread = useStore((s) => s.unread.data);
  const count = useStore((s) => {
    if (path === 'datasources') return s.datasources.data?.length;
    if (path === 'storages') return s.storages.data?.length;
    if (path === 'jobs') return s.jobs.data?.length;
    // Activity: how many are running or waiting right now.
    if (path === 'activity') return s.executions.data?.filter((e) => e.status === 'queued' || e.status === 'running').length;
    return undefined;
  });
  // The bell: unread notifications, red while a failure is among them; its words are read out.
  if (path === 'notifications') {
    if (!unread?.unread) return null;
    return (
      <span className={`nav__count ${unread.critical ? 'nav__count--alert' : ''}`} data-testid="unread-count">
        {unread.unread}
        <span className="visually-hidden"> unread</span>
      </span>
    );
  }
  if (!count) return null;
  return (
    <span className="nav__count" aria-hidden="true">
      {count}
    </span>
  );
}

/** Overall health at a glance, and which build this is. */
function SidebarFooter() {
  const datasources = useStore((s) => s.datasources.data);
  const info = useStore((s) => s.info.data);
  const critical = datasources?.filter((d) => d.enabled && d.status === 'critical').length ?? 0;
  const warning = datasources?.filter((d) => d.enabled && d.status === 'warning').length ?? 0;
  return (
    <div className="sidebar__footer">
      {datasources && datasources.length > 0 && (
        <div className="sidebar__health">
          {critical > 0 ? (
            <StatusBadge status="critical" label={`${critical} critical`} />
          ) : warning > 0 ? (
            <StatusBadge status="warning" label={`${warning} warning`} />
          ) : (
            <StatusBadge status="healthy" label="All healthy" />
          )}
        </div>
      )}
      {info && (
        <a className="sidebar__about" href="#/settings">
          v{info.version} · {info.mode === 'desktop' ? 'Desktop' : 'Headless'}
        </a>
      )}
    </div>
  );
}
