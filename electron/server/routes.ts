import { channelNames, channelOf, type Channel, type HttpMethod } from '../../shared/contract.js';

export interface Route {
  channel: string;
  method: HttpMethod;
  pattern: RegExp;
  params: string[];
  status: number;
}

/** A channel the HTTP transport offers: desktop-only ones (writing to any path, ...) are as unknown as a typo. */
export function httpChannel(name: string): Channel | undefined {
  const channel = channelOf(name);
  return channel?.desktopOnly ? undefined : channel;
}

/** The seed's REST routes, derived from the contract (longest literal prefix first, so `/test` beats `/:id`). */
export function restRoutes(): Route[] {
  const routes: Route[] = [];
  for (const name of channelNames()) {
    const route = httpChannel(name)?.route;
    if (!route) continue;
    const params: string[] = [];
    const pattern = new RegExp(
      '^' +
        route.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:(\w+)/g, (_, p: string) => {
          params.push(p);
          return '([^/]+)';
        }) +
        '/?$',
    );
    routes.push({ channel: name, method: route.method, pattern, params, status: route.status ?? 200 });
  }
  return routes.sort((a, b) => a.params.length - b.params.length);
}

export function matchRoute(routes: Route[], method: string, pathname: string): { route: Route; params: Record<string, string> } | null {
  for (const route of routes) {
    if (route.method !== method) continue;
    const m = route.pattern.exec(pathname);
    if (!m) continue;
    const params: Record<string, string> = {};
    route.params.forEach((p, i) => (params[p] = decodeURIComponent(m[i + 1] ?? '')));
    return { route, params };
  }
  return null;
}
