// Sizes, moments and durations in a person's words: one module for the UI and for every text the core
// sends (notifications, e-mails, webhooks), so "1.2 MB" and "1 min 12 s" read the same everywhere.
// Dates use the reader's locale and time zone: the browser's in the UI, the system's in a notification.

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** 1.4 MB; binary multiples, as file managers on every desktop OS show sizes ("1000 KB" reads as 1 MB). */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  let value = Math.abs(n);
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = unit === 0 || value >= 100 ? String(Math.round(value)) : value.toFixed(1).replace(/\.0$/, '');
  return `${n < 0 ? '-' : ''}${shown} ${UNITS[unit]}`;
}

/** "3,645,312 bytes": the exact size, for a tooltip beside `bytes()`. */
export function exactBytes(n: number | null | undefined): string | undefined {
  if (n === null || n === undefined || !Number.isFinite(n)) return undefined;
  return `${n.toLocaleString()} ${n === 1 ? 'byte' : 'bytes'}`;
}

/** A size given in GB (free space as a storage reports it). */
export function gigabytes(gb: number | null | undefined): string {
  if (gb === null || gb === undefined || !Number.isFinite(gb)) return '—';
  return bytes(gb * 1024 ** 3);
}

/** "12 s", "1 min 12 s", "2 h 5 min", "3 days 4 h". */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return s % 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s / 60} min`;
  if (s < 86_400) {
    const m = Math.floor((s % 3600) / 60);
    return m ? `${Math.floor(s / 3600)} h ${m} min` : `${Math.floor(s / 3600)} h`;
  }
  const days = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  return `${days} ${days === 1 ? 'day' : 'days'}${h ? ` ${h} h` : ''}`;
}

/** A count with its noun: "1 file", "55 files", "1,204 rows". */
export function counted(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

type When = string | Date | null | undefined;
const toDate = (when: When) => (when === null || when === undefined ? null : when instanceof Date ? when : new Date(when));

/** "Sat, 7 Dec 2026, 14:35" in the reader's locale, in a given zone when one is named. */
export function dateTime(when: When, timeZone?: string): string {
  const d = toDate(when);
  if (!d || Number.isNaN(d.getTime())) return '—';
  return new Intl.DateTimeFormat(undefined, {
    weekday: 'short',
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    ...(timeZone ? { timeZone } : {}),
  }).format(d);
}

/** "7 Dec, 14:35" (the year when it is not this one): a moment in a list or a sentence. */
export function shortDateTime(when: When, now: Date = new Date()): string {
  const d = toDate(when);
  if (!d || Number.isNaN(d.getTime())) return '—';
  return new Intl.DateTimeFormat(undefined, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    ...(d.getFullYear() === now.getFullYear() ? {} : { year: 'numeric' }),
  }).format(d);
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** "3 minutes ago", "in 2 hours"; "Never" for null. */
export function fromNow(when: When, now = Date.now()): string {
  const d = toDate(when);
  if (!d) return 'Never';
  const seconds = Math.round((d.getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return seconds <= 0 ? 'just now' : 'in a moment';
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ['minute', 60],
    ['hour', 3600],
    ['day', 86400],
    ['week', 604800],
    ['month', 2629800],
    ['year', 31557600],
  ];
  let chosen: [Intl.RelativeTimeFormatUnit, number] = units[0]!;
  for (const u of units) if (abs >= u[1] * 0.9) chosen = u;
  return relative.format(Math.round(seconds / chosen[1]), chosen[0]);
}
