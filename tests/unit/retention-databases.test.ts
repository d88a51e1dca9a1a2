// Retention of a whole server's job, database by database: a partial run counts as a backup only of the
// databases it holds, so the last good backups of a database that fails in the newer runs stay.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retentionPolicy } from '../../shared/schemas/job.js';
import { planRetention, type RetentionCandidate } from '../../electron/core/scheduler/retention.js';
import { ManualClock } from '../support/clock.js';

const DAY = 86_400_000;

/** One nightly run per day, from the clock, each listing its databases (false: failed in that run). */
function nightly(runs: Record<string, boolean>[]): RetentionCandidate[] {
  const clock = new ManualClock('2026-11-01T02:00:00Z');
  return runs.map((databases, i) => {
    const at = clock.now();
    void clock.advance(DAY);
    return { id: `r${i + 1}`, at, databases: Object.entries(databases).map(([name, ok]) => ({ name, ok })) };
  });
}

const plan = (backups: RetentionCandidate[], rule: Record<string, unknown>) =>
  Object.fromEntries(planRetention({ policy: retentionPolicy.parse(rule), backups, timeZone: 'UTC', inUse: new Map() }).map((d) => [d.execution_id, d]));

test('shop failed in the three newest runs: its last good backups stay, with the reason; runs no database needs go', () => {
  const backups = nightly([
    { shop: true, sales: true },
    { shop: true, sales: true },
    { shop: true, sales: true },
    { shop: false, sales: true },
    { shop: false, sales: true },
    { shop: false, sales: true },
  ]);
  const d = plan(backups, { max_backups: 2 });
  assert.deepEqual(
    Object.values(d)
      .filter((x) => x.keep)
      .map((x) => x.execution_id)
      .sort(),
    ['r2', 'r3', 'r5', 'r6'],
  );
  assert.deepEqual(d.r3!.reasons, ['shop: newest, last 2']);
  assert.deepEqual(d.r2!.reasons, ['shop: last 2']);
  assert.equal(d.r1!.keep, false);
  assert.equal(d.r4!.keep, false, 'r4 holds sales only, which newer runs hold twice');
});

test('the calendar tiers too: a database backed up only on some days keeps its own days', () => {
  const backups = nightly([
    { shop: true, sales: true },
    { shop: false, sales: true },
    { shop: true, sales: true },
    { shop: false, sales: true },
    { shop: false, sales: true },
  ]);
  const d = plan(backups, { keep_daily: 2 });
  assert.ok(d.r5!.keep && d.r4!.keep);
  assert.deepEqual(d.r3!.reasons, ['shop: newest, daily 2026-11-03']);
  assert.deepEqual(d.r1!.reasons, ['shop: daily 2026-11-01']);
  assert.equal(d.r2!.keep, false);
});

test('a database gone from the server ages out with its runs; a safety backup of some databases does not say what the job backs up', () => {
  const backups = nightly([{ old_db: true, sales: true }, { old_db: true, sales: true }, { sales: true }, { sales: true }]);
  const safety: RetentionCandidate = {
    id: 'safety',
    at: new Date('2026-11-10T00:00:00Z'),
    databases: [{ name: 'sales', ok: true }],
    someDatabases: true,
  };
  const d = plan([...backups, safety], { max_backups: 2 });
  assert.equal(d.r1!.keep, false);
  assert.equal(d.r2!.keep, false, 'old_db is not in the newest run of the whole server: its runs age out');
  assert.ok(d.safety!.keep && d.r4!.keep);
});

test('a job of one database is planned as before', () => {
  const backups = nightly([{}, {}, {}]).map(({ id, at }) => ({ id, at }));
  const d = plan(backups, { max_backups: 1 });
  assert.deepEqual(
    Object.values(d).map((x) => x.keep),
    [true, false, false],
  );
});
