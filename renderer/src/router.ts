import { useSyncExternalStore } from 'react';

// Routes live in the hash: the built page is opened from file:// in Electron and from any path in a browser.
const subscribe = (cb: () => void) => {
  window.addEventListener('hashchange', cb);
  return () => window.removeEventListener('hashchange', cb);
};
const read = () => window.location.hash.replace(/^#/, '') || '/overview';

/** The current route split on '/': ['datasources', 'new'], and its `?key=value` query. */
export function useRoute(): { path: string[]; query: URLSearchParams } {
  const [path = '', query = ''] = useSyncExternalStore(subscribe, read).split('?');
  return { path: path.split('/').filter(Boolean), query: new URLSearchParams(query) };
}

export function navigate(path: string): void {
  window.location.hash = path;
}
