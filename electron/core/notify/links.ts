import type { Notification } from '../../../shared/schemas/notification.js';

/**
 * Where the UI shows what a notification is about, as the renderer's hash route: the run when there is
 * one, else the entity's page. The desktop notification opens it; webhook and e-mail link to it.
 */
export function routeOf(n: Pick<Notification, 'type' | 'entity_type' | 'entity_id' | 'metadata'>): string {
  const execution = n.metadata?.execution_id;
  if (typeof execution === 'string') return `/activity/${execution}`;
  switch (n.entity_type) {
    case 'backup_job':
      return `/jobs/${n.entity_id}/edit`;
    case 'datasource':
      return `/datasources/${n.entity_id}/edit`;
    case 'storage_location':
      return `/storages/${n.entity_id}/edit`;
    default:
      return n.type === 'delivery_failed' ? '/settings' : '/activity';
  }
}

/** An absolute link for messages that leave the app, when Settings say at which address the app is reached. */
export function linkOf(n: Parameters<typeof routeOf>[0], appUrl: string | null): string | null {
  return appUrl ? `${appUrl.replace(/\/+$/, '')}/#${routeOf(n)}` : null;
}
