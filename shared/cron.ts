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

/** The next `count` run times after `from`, as ISO strings. */
export function nextRuns(expr: string, tz: string, count = 5, from: Date = new Date()): string[] {
  const it = cronParser.parseExpression(expr, { tz, currentDate: from });
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(it.next().toDate().toISOString());
  return out;
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
