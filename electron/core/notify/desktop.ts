import type { NotificationSeverity } from '../../../shared/schemas/enums.js';
import { routeOf } from './links.js';
import type { Sink } from './notifier.js';

/** What the shell shows; clicking it opens `route` (the renderer's hash route) in the window. */
export interface DesktopNotice {
  title: string;
  body: string;
  severity: NotificationSeverity;
  route: string;
}

/** The shell's way of showing a notice (Electron's `Notification`): the core never imports electron. */
export type ShowDesktop = (notice: DesktopNotice) => void | Promise<void>;

export const desktopSink =
  (show: ShowDesktop): Sink =>
  (n) =>
    show({ title: n.title, body: n.message, severity: n.severity, route: routeOf(n) });
