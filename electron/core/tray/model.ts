import type { DatasourceStatus, StorageStatus } from '../../../shared/schemas/enums.js';

/** Each state has its own icon in resources/ (`tray-<state>.png`). */
export const TRAY_STATES = ['idle', 'running', 'warning', 'error', 'paused'] as const;
export type TrayState = (typeof TRAY_STATES)[number];

/** Everything the tray shows, as the core sees it at `now`. */
export interface TrayInput {
  jobs: { id: string; name: string }[];
  /** Executions running now; `job_name` null for one whose job is gone. */
  running: { job_id: string | null; job_name: string | null }[];
  datasources: { name: string; status: DatasourceStatus; enabled: boolean }[];
  storages: { name: string; status: StorageStatus }[];
  unread: { critical: number; warning: number; info: number };
  paused: boolean;
  /** When the latest completed backup finished. */
  lastBackupAt: Date | null;
  /** The earliest next slot of any job; null while nothing is scheduled. */
  nextRunAt: Date | null;
  /** The platform's login item, as the shell reads it. */
  startAtLogin: boolean;
  now: Date;
  /** The zone the times are shown in (the system's when absent). */
  timeZone?: string;
}

export type TrayMenuItem =
  | { kind: 'open'; label: string }
  | { kind: 'backUpNow'; label: string; jobs: { jobId: string; label: string; enabled: boolean }[] }
  | { kind: 'allJobs'; label: string }
  | { kind: 'pause' | 'resume'; label: string }
  | { kind: 'notifications'; label: string }
  | { kind: 'startAtLogin'; label: string; checked: boolean }
  | { kind: 'separator' }
  | { kind: 'quit'; label: string };

export interface TrayModel {
  state: TrayState;
  tooltip: string;
  menu: TrayMenuItem[];
}

const TOOLTIP_MAX = 127;

/** A tray menu stays short: the first jobs by name, the rest are one click away in the window. */
export const TRAY_MAX_JOBS = 10;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** "Shop and Billing", "Shop, Billing and 2 more". */
function names(list: string[]): string {
  if (list.length <= 2) return list.join(' and ');
  return `${list.slice(0, 2).join(', ')} and ${list.length - 2} more`;
}

/** "just now", "4 min ago", "3 h ago", "2 days ago". */
export function ago(then: Date, now: Date): string {
  const minutes = Math.floor((now.getTime() - then.getTime()) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  return `${plural(Math.floor(hours / 24), 'day')} ago`;
}

/** "03:00" today, "Tue 03:00" within a week, "14 Dec 03:00" later. */
export function clockTime(when: Date, now: Date, timeZone?: string): string {
  const zone = timeZone ? { timeZone } : {};
  const time = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', ...zone }).format(when);
  const day = (d: Date) => new Intl.DateTimeFormat('en-GB', { year: 'numeric', month: '2-digit', day: '2-digit', ...zone }).format(d);
  if (day(when) === day(now)) return time;
  const weekAway = when.getTime() - now.getTime() < 6 * 86_400_000;
  const date = new Intl.DateTimeFormat('en-GB', weekAway ? { weekday: 'short', ...zone } : { day: 'numeric', month: 'short', ...zone }).format(when);
  return `${date} ${time}`;
}

/** What is wrong, worst first: the state and the words that say why. */
function problems(input: TrayInput): { state: TrayState; headline: string | null } {
  const watched = input.datasources.filter((d) => d.enabled);
  const down = [...watched.filter((d) => d.status === 'critical').map((d) => `${d.name} is down`)];
  down.push(...input.storages.filter((s) => s.status === 'unreachable').map((s) => `${s.name} is unreachable`));
  if (input.unread.critical) down.push(`${plural(input.unread.critical, 'unread failure')}`);
  if (down.length) return { state: 'error', headline: names(down) };
  const look = [...watched.filter((d) => d.status === 'warning').map((d) => `${d.name} is slow`)];
  look.push(...input.storages.filter((s) => s.status === 'full').map((s) => `${s.name} is full`));
  if (input.unread.warning) look.push(`${plural(input.unread.warning, 'unread warning')}`);
  if (look.length) return { state: 'warning', headline: names(look) };
  if (input.running.length) {
    const [only] = input.running;
    return { state: 'running', headline: input.running.length === 1 ? `Running ${only?.job_name ?? 'a backup'}` : `${input.running.length} running` };
  }
  if (input.paused) return { state: 'paused', headline: null };
  return { state: 'idle', headline: null };
}

/**
 * The tray, all of it, from one pure function: its icon state, its tooltip and its menu. The shell
 * only maps this to native icons and menu items, so every situation is tested without Electron.
 */
export function trayModel(input: TrayInput): TrayModel {
  const { state, headline } = problems(input);
  const last = input.lastBackupAt ? `Last backup ${ago(input.lastBackupAt, input.now)}` : 'No backup yet';
  const next = input.nextRunAt ? `next ${clockTime(input.nextRunAt, input.now, input.timeZone)}` : input.paused ? 'schedules paused' : 'nothing scheduled';
  const when = `${last} · ${next}`;
  // Windows cuts a tray tooltip at 127 characters: a long headline (long names) gives way, the times stay.
  const room = TOOLTIP_MAX - when.length - 1;
  const tooltip = headline ? `${headline.length > room ? `${headline.slice(0, room - 1)}…` : headline}\n${when}` : when;

  const busy = new Set(input.running.map((r) => r.job_id));
  const jobs = [...input.jobs].sort((a, b) => a.name.localeCompare(b.name));
  const unread = input.unread.critical + input.unread.warning + input.unread.info;
  const menu: TrayMenuItem[] = [{ kind: 'open', label: 'Open DataGuardian' }, { kind: 'separator' }];
  if (jobs.length) {
    menu.push({
      kind: 'backUpNow',
      label: 'Back up now',
      jobs: jobs.slice(0, TRAY_MAX_JOBS).map((j) => ({
        jobId: j.id,
        label: busy.has(j.id) ? `${j.name} (running)` : j.name,
        enabled: !busy.has(j.id),
      })),
    });
    if (jobs.length > TRAY_MAX_JOBS) menu.push({ kind: 'allJobs', label: `All ${jobs.length} jobs…` });
  }
  menu.push(
    input.paused ? { kind: 'resume', label: 'Resume schedules' } : { kind: 'pause', label: 'Pause schedules' },
    { kind: 'notifications', label: unread ? `Notifications (${unread} unread)` : 'Notifications' },
    { kind: 'separator' },
    { kind: 'startAtLogin', label: 'Start at login', checked: input.startAtLogin },
    { kind: 'quit', label: 'Quit DataGuardian' },
  );
  return { state, tooltip, menu };
}
