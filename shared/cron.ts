import cronParser from 'cron-parser';
import cronstrue from 'cronstrue';

/** True for an IANA zone name (or UTC) this runtime knows. */
export function isValidTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Why a 5-field cron expression is not valid, or null when it is. */
export function cronError(expr: string): string | null {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5) return 'A schedule has 5 fields: minute hour day-of-month month day-of-week (e.g. "0 3 * * *")';
  try {
    cronParser.parseExpression(expr, { tz: 'UTC' });
    return null;
  } catch (e) {
    return `Invalid schedule: ${(e as Error).message}`;
  }
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
// No zone shifts its clock by more than this at once; wall order and real order differ by less.
const MAX_SHIFT = 3 * HOUR;

const formats = new Map<string, Intl.DateTimeFormat>();
function formatIn(tz: string): Intl.DateTimeFormat {
  let f = formats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(tz, f);
  }
  return f;
}

const walls = new Map<string, number>();

/** The wall-clock time an instant shows in `tz`, as a UTC-based number (a "naive" local time). */
function wallOf(instant: number, tz: string): number {
  const key = `${tz} ${instant}`;
  let wall = walls.get(key);
  if (wall === undefined) {
    const parts = Object.fromEntries(
      formatIn(tz)
        .formatToParts(new Date(instant))
        .map((p) => [p.type, Number(p.value)]),
    );
    wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!) + (instant % 1000);
    // Intl is slow and a scheduler asks the same instants again and again; bounded, so never a leak.
    if (walls.size > 50_000) walls.clear();
    walls.set(key, wall);
  }
  return wall;
}

/** The instants that show wall time `wall` in `tz`, earliest first: none in a spring-forward gap, two in a fall-back hour. */
function instantsOf(wall: number, tz: string): number[] {
  const offsets = new Set([wallOf(wall - 36 * HOUR, tz) - (wall - 36 * HOUR), wallOf(wall + 36 * HOUR, tz) - (wall + 36 * HOUR)]);
  for (const o of [...offsets]) offsets.add(wallOf(wall - o, tz) - (wall - o));
  return [...new Set([...offsets].map((o) => wall - o).filter((i) => wallOf(i, tz) === wall))].sort((a, b) => a - b);
}

/**
 * The real instants a wall time of the schedule runs at. cron-parser 4 gets DST wrong in two ways
 * (checked on 4.9): a time in the spring-forward gap runs an hour late (02:30 New York at 03:30, not
 * 03:00), and from inside a repeated hour it offers the second 01:30 after the first already ran.
 * So it only parses the fields; wall times are walked here, and this decides what they mean:
 * - a time in the gap runs once, at the first valid minute after it;
 * - a time that occurs twice runs once, the first time, unless the schedule runs every hour (hour `*`),
 *   whose runs keep their real spacing: every 30 minutes stays 30 real minutes through both changes.
 */
function runsOfWall(wall: number, tz: string, everyHour: boolean): number[] {
  const instants = instantsOf(wall, tz);
  if (instants.length === 0) {
    if (everyHour) return [];
    for (let m = wall + MINUTE; m < wall + MAX_SHIFT; m += MINUTE) {
      const [first] = instantsOf(m, tz);
      if (first !== undefined) return [first];
    }
    return [];
  }
  return everyHour ? instants : instants.slice(0, 1);
}

interface Fields {
  minutes: number[];
  hours: number[];
  months: Set<number>;
  days: Set<number | 'L'>;
  weekdays: Set<number>;
  /** Standard cron: when both day fields are restricted, a day matching either runs. */
  anyDay: boolean;
  anyWeekday: boolean;
}

const parsed = new Map<string, Fields>();
function fieldsOf(expr: string): Fields {
  let f = parsed.get(expr);
  if (!f) {
    const { fields } = cronParser.parseExpression(expr, { tz: 'UTC' });
    const [, , dom, , dow] = expr.trim().split(/\s+/);
    f = {
      minutes: [...fields.minute],
      hours: [...fields.hour],
      months: new Set(fields.month),
      days: new Set(fields.dayOfMonth),
      weekdays: new Set(fields.dayOfWeek.map((d) => d % 7)),
      anyDay: dom === '*' || dom === '?',
      anyWeekday: dow === '*' || dow === '?',
    };
    parsed.set(expr, f);
  }
  return f;
}

const DAY = 24 * HOUR;

function dayMatches(f: Fields, day: number): boolean {
  const d = new Date(day);
  if (!f.months.has(d.getUTCMonth() + 1)) return false;
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  const byDay = f.days.has(d.getUTCDate()) || (f.days.has('L') && d.getUTCDate() === last);
  const byWeekday = f.weekdays.has(d.getUTCDay());
  if (f.anyDay && f.anyWeekday) return true;
  if (f.anyDay) return byWeekday;
  if (f.anyWeekday) return byDay;
  return byDay || byWeekday;
}

/**
 * The wall times (naive, UTC-based) the schedule names after `start`, in order. cron-parser parses
 * the fields; walking them here is a hundred times faster than its own iterator.
 */
function* wallTimes(f: Fields, start: number): Generator<number> {
  // Eight years and a day: enough for 29 February.
  for (let day = Math.floor(start / DAY) * DAY, end = day + (8 * 366 + 1) * DAY; day < end; day += DAY) {
    if (!dayMatches(f, day)) continue;
    for (const h of f.hours) for (const m of f.minutes) if (day + h * HOUR + m * MINUTE > start) yield day + h * HOUR + m * MINUTE;
  }
}

/** The next `count` run times strictly after `from`, as ISO strings (the UI's preview and the scheduler's slots). */
export function nextRuns(expr: string, tz: string, count = 5, from: Date = new Date()): string[] {
  const f = fieldsOf(expr);
  const everyHour = f.hours.length === 24;
  const found = new Set<number>();
  const sorted = () => [...found].sort((a, b) => a - b);
  for (const wall of wallTimes(f, wallOf(from.getTime(), tz) - MAX_SHIFT)) {
    for (const run of runsOfWall(wall, tz, everyHour)) if (run > from.getTime()) found.add(run);
    // Wall times come in order; once they are MAX_SHIFT past the count-th run, no earlier run can follow.
    const runs = sorted();
    if (runs.length >= count && wall - MAX_SHIFT > wallOf(runs[count - 1]!, tz)) break;
  }
  return sorted()
    .slice(0, count)
    .map((t) => new Date(t).toISOString());
}

/** The schedule in words, e.g. "Every day at 03:00, America/Sao_Paulo". */
export function describeSchedule(expr: string, tz: string): string {
  const [, , dom, month, dow] = expr.trim().split(/\s+/);
  let words = cronstrue.toString(expr, { use24HourTimeFormat: true, verbose: false });
  if (dom === '*' && month === '*' && dow === '*' && /^At \d\d:\d\d$/.test(words)) {
    words = `Every day at ${words.slice(3)}`;
  }
  return `${words}, ${tz}`;
}
