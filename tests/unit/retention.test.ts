import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retentionPolicy, type RetentionPolicy } from '../../shared/schemas/job.js';
import { periodsOf, planRetention, type InUse } from '../../electron/core/scheduler/retention.js';

// 42 completed backups over 14 months (2024-12-31 to 2026-02-28) of a job in Europe/Berlin, plus
// failed runs between them. Instants are UTC; the comment is the local time the buckets must use.
// DST began 2025-03-30 01:00 UTC and ended 2025-10-26 01:00 UTC.
const TZ = 'Europe/Berlin';
const RUNS: [id: string, utc: string, status: 'completed' | 'failed', local: string][] = [
  ['b01', '2026-02-27T23:30:00Z', 'completed', 'Sat 2026-02-28 00:30 (UTC says the 27th)'],
  ['b02', '2026-02-27T21:00:00Z', 'completed', 'Fri 2026-02-27 22:00'],
  ['b03', '2026-02-27T02:00:00Z', 'completed', 'Fri 2026-02-27 03:00 (second of the day)'],
  ['b04', '2026-02-26T02:00:00Z', 'completed', 'Thu 2026-02-26'],
  ['b05', '2026-02-25T02:00:00Z', 'completed', 'Wed 2026-02-25'],
  ['f01', '2026-02-24T02:00:00Z', 'failed', 'Tue 2026-02-24: failed'],
  ['b06', '2026-02-23T02:00:00Z', 'completed', 'Mon 2026-02-23 (W09)'],
  ['b07', '2026-02-22T02:00:00Z', 'completed', 'Sun 2026-02-22 (W08)'],
  ['b08', '2026-02-21T02:00:00Z', 'completed', 'Sat 2026-02-21'],
  ['b09', '2026-02-20T02:00:00Z', 'completed', 'Fri 2026-02-20'],
  ['f02', '2026-02-19T02:00:00Z', 'failed', 'Thu: failed'],
  ['f03', '2026-02-18T02:00:00Z', 'failed', 'Wed: failed'],
  ['b10', '2026-02-16T02:00:00Z', 'completed', 'Mon 2026-02-16 (W08)'],
  ['b11', '2026-02-15T02:00:00Z', 'completed', 'Sun 2026-02-15 (W07)'],
  ['b12', '2026-02-09T02:00:00Z', 'completed', 'Mon 2026-02-09 (W07)'],
  ['b13', '2026-02-02T02:00:00Z', 'completed', 'Mon 2026-02-02 (W06)'],
  ['b14', '2026-02-01T02:00:00Z', 'completed', 'Sun 2026-02-01 (W05)'],
  ['b15', '2026-01-31T02:00:00Z', 'completed', 'Sat 2026-01-31 (W05)'],
  ['f04', '2026-01-20T02:00:00Z', 'failed', 'failed'],
  ['b16', '2026-01-15T02:00:00Z', 'completed', 'Thu 2026-01-15 (W03)'],
  ['b17', '2025-12-31T23:30:00Z', 'completed', 'Thu 2026-01-01 00:30 (UTC says 2025)'],
  ['b18', '2025-12-31T22:30:00Z', 'completed', 'Wed 2025-12-31 23:30 (ISO week 2026-W01)'],
  ['b19', '2025-12-15T02:00:00Z', 'completed', 'Mon 2025-12-15'],
  ['b20', '2025-11-30T02:00:00Z', 'completed', 'Sun 2025-11-30'],
  ['b21', '2025-11-01T02:00:00Z', 'completed', 'Sat 2025-11-01'],
  ['b22', '2025-10-26T01:30:00Z', 'completed', 'Sun 2025-10-26 02:30 CET (the second 02:30 of the DST day)'],
  ['b23', '2025-10-26T00:30:00Z', 'completed', 'Sun 2025-10-26 02:30 CEST (the first)'],
  ['b24', '2025-10-25T01:00:00Z', 'completed', 'Sat 2025-10-25 03:00 CEST'],
  ['f05', '2025-10-10T01:00:00Z', 'failed', 'failed'],
  ['b25', '2025-10-01T01:00:00Z', 'completed', 'Wed 2025-10-01'],
  ['b26', '2025-09-15T01:00:00Z', 'completed', 'Mon 2025-09-15'],
  ['b27', '2025-08-31T21:59:00Z', 'completed', 'Sun 2025-08-31 23:59'],
  ['b28', '2025-08-01T01:00:00Z', 'completed', 'Fri 2025-08-01'],
  ['b29', '2025-07-01T01:00:00Z', 'completed', 'Tue 2025-07-01'],
  ['b30', '2025-06-15T01:00:00Z', 'completed', 'Sun 2025-06-15'],
  ['b31', '2025-05-31T01:00:00Z', 'completed', 'Sat 2025-05-31'],
  ['b32', '2025-05-01T01:00:00Z', 'completed', 'Thu 2025-05-01'],
  ['b33', '2025-04-01T01:00:00Z', 'completed', 'Tue 2025-04-01'],
  ['b34', '2025-03-30T01:30:00Z', 'completed', 'Sun 2025-03-30 03:30 CEST (DST began at 02:00)'],
  ['b35', '2025-03-30T00:30:00Z', 'completed', 'Sun 2025-03-30 01:30 CET'],
  ['b36', '2025-03-29T02:00:00Z', 'completed', 'Sat 2025-03-29'],
  ['f06', '2025-03-15T02:00:00Z', 'failed', 'failed'],
  ['b37', '2025-03-01T02:00:00Z', 'completed', 'Sat 2025-03-01'],
  ['b38', '2025-02-15T02:00:00Z', 'completed', 'Sat 2025-02-15'],
  ['b39', '2025-02-01T02:00:00Z', 'completed', 'Sat 2025-02-01'],
  ['b40', '2025-01-15T02:00:00Z', 'completed', 'Wed 2025-01-15'],
  ['b41', '2025-01-01T02:00:00Z', 'completed', 'Wed 2025-01-01 (2025-W01)'],
  ['b42', '2024-12-31T02:00:00Z', 'completed', 'Tue 2024-12-31 (ISO week 2025-W01)'],
];

// As the catalog hands them over: completed backups only, and in no particular order.
const BACKUPS = RUNS.filter(([, , status]) => status === 'completed')
  .map(([id, utc]) => ({ id, at: new Date(utc) }))
  .reverse();

const policy = (p: Record<string, unknown>): RetentionPolicy => retentionPolicy.parse(p);
const plan = (p: RetentionPolicy, inUse: InUse = new Map()) => planRetention({ policy: p, backups: BACKUPS, timeZone: TZ, inUse });
const keptIds = (p: RetentionPolicy, inUse?: InUse) =>
  plan(p, inUse)
    .filter((d) => d.keep)
    .map((d) => d.execution_id);
const ids = (s: string) => s.split(/\s+/).filter(Boolean);

describe('retention planner', () => {
  it('the table is what the test says it is: 42 backups over 14 months, failed runs between', () => {
    assert.equal(BACKUPS.length, 42);
    assert.ok(RUNS.some(([, , s]) => s === 'failed'));
    // Buckets use the job's timezone, DST included.
    assert.deepEqual(periodsOf(new Date('2026-02-27T23:30:00Z'), TZ), { daily: '2026-02-28', weekly: '2026-W09', monthly: '2026-02', yearly: '2026' });
    assert.deepEqual(periodsOf(new Date('2025-12-31T22:30:00Z'), TZ), { daily: '2025-12-31', weekly: '2026-W01', monthly: '2025-12', yearly: '2025' });
    assert.equal(periodsOf(new Date('2025-10-26T01:30:00Z'), TZ).daily, '2025-10-26');
    assert.equal(periodsOf(new Date('2025-10-26T00:30:00Z'), TZ).daily, '2025-10-26');
    assert.equal(periodsOf(new Date('2025-03-30T00:30:00Z'), TZ).daily, '2025-03-30');
    assert.equal(periodsOf(new Date('2024-12-31T02:00:00Z'), TZ).weekly, '2025-W01');
  });

  it('max_backups keeps the N newest completed backups', () => {
    const decisions = plan(policy({ max_backups: 5 }));
    assert.deepEqual(
      decisions.filter((d) => d.keep).map((d) => d.execution_id),
      ids('b01 b02 b03 b04 b05'),
    );
    assert.equal(decisions.length, 42);
    assert.deepEqual(decisions[0]!.reasons, ['newest', 'last 5']);
    assert.deepEqual(decisions[5]!.reasons, []);
  });

  it('7 daily, 4 weekly, 12 monthly, 2 yearly: the table restic forget would keep, in the job timezone', () => {
    const gfs = policy({ keep_daily: 7, keep_weekly: 4, keep_monthly: 12, keep_yearly: 2 });
    // daily:   b01 (02-28 local) b02 (02-27) b04 b05 b06 b07 b08  — b03 shares b02's day
    // weekly:  b01 (W09) b07 (W08) b11 (W07) b13 (W06)
    // monthly: b01 (2026-02) b15 (2026-01) b18 (2025-12, local 12-31) b20 b22 (10, DST end day) b26 b27 (08-31 23:59) b29 b30 b31 b33 b34 (03, DST start day)
    // yearly:  b01 (2026) b18 (2025; b17 is 2026 locally)
    assert.deepEqual(keptIds(gfs), ids('b01 b02 b04 b05 b06 b07 b08 b11 b13 b15 b18 b20 b22 b26 b27 b29 b30 b31 b33 b34'));
    const byId = new Map(plan(gfs).map((d) => [d.execution_id, d]));
    assert.deepEqual(byId.get('b01')!.reasons, ['newest', 'daily 2026-02-28', 'weekly 2026-W09', 'monthly 2026-02', 'yearly 2026']);
    assert.deepEqual(byId.get('b18')!.reasons, ['monthly 2025-12', 'yearly 2025']);
    assert.deepEqual(byId.get('b22')!.reasons, ['monthly 2025-10']);
    assert.deepEqual(byId.get('b03')!.reasons, []);
    assert.equal(byId.get('b03')!.keep, false);
  });

  it('only periods that hold a backup count: months without one do not use up the monthly count', () => {
    // Every month from 2025-03 to 2026-02 holds a backup, so 12 monthly reach back to March 2025 despite the failures.
    assert.deepEqual(keptIds(policy({ keep_monthly: 12 })), ids('b01 b15 b18 b20 b22 b26 b27 b29 b30 b31 b33 b34'));
    // Two yearly reach 2025's last backup, not a backup "two years ago".
    assert.deepEqual(keptIds(policy({ keep_yearly: 3 })), ids('b01 b18 b42'));
  });

  it('the newest backup is kept even by a rule that keeps nothing (one that got past validation)', () => {
    const nothing: RetentionPolicy = { keep_daily: 0, min_keep: 1, auto_delete: true };
    const decisions = plan(nothing);
    assert.deepEqual(
      decisions.filter((d) => d.keep).map((d) => d.execution_id),
      ['b01'],
    );
    assert.deepEqual(decisions[0]!.reasons, ['newest']);
  });

  it('min_keep: a job never drops below it, the newest the rule let go being kept first', () => {
    const decisions = plan(policy({ keep_yearly: 1, min_keep: 3 }));
    assert.deepEqual(
      decisions.filter((d) => d.keep).map((d) => [d.execution_id, d.reasons.join(', ')]),
      [
        ['b01', 'newest, yearly 2026'],
        ['b02', 'min_keep'],
        ['b03', 'min_keep'],
      ],
    );
    // A floor above the number of backups keeps them all.
    assert.equal(keptIds(policy({ max_backups: 1, min_keep: 50 })).length, 42);
  });

  it('a backup named by a queued restore or verification is kept whatever the rule says', () => {
    const inUse: InUse = new Map([
      ['b40', 'restore'],
      ['b12', 'verify'],
    ]);
    const decisions = new Map(plan(policy({ max_backups: 2 }), inUse).map((d) => [d.execution_id, d]));
    assert.deepEqual(decisions.get('b40')!.reasons, ['used by a restore']);
    assert.deepEqual(decisions.get('b12')!.reasons, ['used by a verification']);
    assert.deepEqual(keptIds(policy({ max_backups: 2 }), inUse), ids('b01 b02 b12 b40'));
  });

  it('a pinned backup is kept whatever the rule says, with its reason; pins take nothing from the rule', () => {
    const pinned = BACKUPS.map((b) => ({ ...b, pinned: b.id === 'b30' ? 'before the 2025 audit' : b.id === 'b41' ? '' : null }));
    const decisions = planRetention({ policy: policy({ max_backups: 2 }), backups: pinned, timeZone: TZ, inUse: new Map() });
    const byId = new Map(decisions.map((d) => [d.execution_id, d]));
    assert.deepEqual(byId.get('b30')!.reasons, ['pinned: before the 2025 audit']);
    assert.deepEqual(byId.get('b41')!.reasons, ['pinned']);
    assert.deepEqual(
      decisions.filter((d) => d.keep).map((d) => d.execution_id),
      ids('b01 b02 b30 b41'),
      'the two newest, as the rule says, and the pinned ones besides',
    );
  });

  it('tiers overlap: max_backups and the buckets together keep the union', () => {
    assert.deepEqual(keptIds(policy({ max_backups: 3, keep_weekly: 2 })), ids('b01 b02 b03 b07'));
  });

  it('validation refuses a rule that keeps nothing, and a floor below one', () => {
    for (const bad of [
      {},
      { keep_daily: 0 },
      { keep_daily: 0, keep_weekly: 0, keep_monthly: 0, keep_yearly: 0 },
      { max_backups: 0 },
      { max_backups: 3, min_keep: 0 },
    ]) {
      assert.equal(retentionPolicy.safeParse(bad).success, false, JSON.stringify(bad));
    }
    assert.deepEqual(retentionPolicy.parse({ keep_daily: 7 }), { keep_daily: 7, min_keep: 1, auto_delete: true });
  });
});

// restic's TestApplyPolicy snapshots (internal/data/snapshot_policy_test.go, restic 0.18), UTC, in its order.
const RESTIC_SNAPSHOTS = `
  2014-09-01 10:20:30 | 2014-09-02 10:20:30 | 2014-09-05 10:20:30 | 2014-09-06 10:20:30
  2014-09-08 10:20:30 | 2014-09-09 10:20:30 | 2014-09-10 10:20:30 | 2014-09-11 10:20:30
  2014-09-20 10:20:30 | 2014-09-22 10:20:30 | 2014-08-08 10:20:30 | 2014-08-10 10:20:30
  2014-08-12 10:20:30 | 2014-08-13 10:20:30 | 2014-08-13 10:20:30.1 | 2014-08-15 10:20:30
  2014-08-18 10:20:30 | 2014-08-20 10:20:30 | 2014-08-21 10:20:30 | 2014-08-22 10:20:30
  2014-10-01 10:20:30 | 2014-10-02 10:20:30 | 2014-10-05 10:20:30 | 2014-10-06 10:20:30
  2014-10-08 10:20:30 | 2014-10-09 10:20:30 | 2014-10-10 10:20:30 | 2014-10-11 10:20:30
  2014-10-20 10:20:30 | 2014-10-22 10:20:30 | 2014-11-08 10:20:30 | 2014-11-10 10:20:30
  2014-11-12 10:20:30 | 2014-11-13 10:20:30 | 2014-11-13 10:20:30.1 | 2014-11-15 10:20:30
  2014-11-18 10:20:30 | 2014-11-20 10:20:30 | 2014-11-21 10:20:30 | 2014-11-22 10:20:30
  2015-09-01 10:20:30 | 2015-09-02 10:20:30 | 2015-09-05 10:20:30 | 2015-09-06 10:20:30
  2015-09-08 10:20:30 | 2015-09-09 10:20:30 | 2015-09-10 10:20:30 | 2015-09-11 10:20:30
  2015-09-20 10:20:30 | 2015-09-22 10:20:30 | 2015-08-08 10:20:30 | 2015-08-10 10:20:30
  2015-08-12 10:20:30 | 2015-08-13 10:20:30 | 2015-08-13 10:20:30.1 | 2015-08-15 10:20:30
  2015-08-18 10:20:30 | 2015-08-20 10:20:30 | 2015-08-21 10:20:30 | 2015-08-22 10:20:30
  2015-10-01 10:20:30 | 2015-10-02 10:20:30 | 2015-10-05 10:20:30 | 2015-10-06 10:20:30
  2015-10-08 10:20:30 | 2015-10-09 10:20:30 | 2015-10-10 10:20:30 | 2015-10-11 10:20:30
  2015-10-20 10:20:30 | 2015-10-22 10:20:30 | 2015-10-22 10:20:30 | 2015-10-22 10:20:30
  2015-10-22 10:20:30 | 2015-10-22 10:20:30 | 2015-11-08 10:20:30 | 2015-11-10 10:20:30
  2015-11-12 10:20:30 | 2015-11-13 10:20:30 | 2015-11-13 10:20:30.1 | 2015-11-15 10:20:30
  2015-11-18 10:20:30 | 2015-11-20 10:20:30 | 2015-11-21 10:20:30 | 2015-11-22 10:20:30
  2016-01-01 01:02:03 | 2016-01-01 01:03:03 | 2016-01-01 07:08:03 | 2016-01-03 07:02:03
  2016-01-04 10:23:03 | 2016-01-04 11:23:03 | 2016-01-04 12:23:03 | 2016-01-04 12:24:03
  2016-01-04 12:28:03 | 2016-01-04 12:30:03 | 2016-01-04 16:23:03 | 2016-01-05 09:02:03
  2016-01-06 08:02:03 | 2016-01-07 10:02:03 | 2016-01-08 20:02:03 | 2016-01-09 21:02:03
  2016-01-12 21:02:03 | 2016-01-12 21:08:03 | 2016-01-18 12:02:03
`;
// Its golden files (testdata/policy_keep_snapshots_N, hourly ones left out): what each policy keeps, by time, newest first.
const RESTIC_KEPT: [n: number, policy: Record<string, number>, kept: string][] = [
  [
    1,
    { max_backups: 10 },
    `
    2016-01-18 12:02:03 | 2016-01-12 21:08:03 | 2016-01-12 21:02:03 | 2016-01-09 21:02:03
    2016-01-08 20:02:03 | 2016-01-07 10:02:03 | 2016-01-06 08:02:03 | 2016-01-05 09:02:03
    2016-01-04 16:23:03 | 2016-01-04 12:30:03
    `,
  ],
  [
    2,
    { max_backups: 15 },
    `
    2016-01-18 12:02:03 | 2016-01-12 21:08:03 | 2016-01-12 21:02:03 | 2016-01-09 21:02:03
    2016-01-08 20:02:03 | 2016-01-07 10:02:03 | 2016-01-06 08:02:03 | 2016-01-05 09:02:03
    2016-01-04 16:23:03 | 2016-01-04 12:30:03 | 2016-01-04 12:28:03 | 2016-01-04 12:24:03
    2016-01-04 12:23:03 | 2016-01-04 11:23:03 | 2016-01-04 10:23:03
    `,
  ],
  [3, { max_backups: 99 }, `the 99 newest`],
  [4, { max_backups: 200 }, `the 103 newest`],
  [
    6,
    { keep_daily: 3 },
    `
    2016-01-18 12:02:03 | 2016-01-12 21:08:03 | 2016-01-09 21:02:03
    `,
  ],
  [
    7,
    { keep_daily: 10 },
    `
    2016-01-18 12:02:03 | 2016-01-12 21:08:03 | 2016-01-09 21:02:03 | 2016-01-08 20:02:03
    2016-01-07 10:02:03 | 2016-01-06 08:02:03 | 2016-01-05 09:02:03 | 2016-01-04 16:23:03
    2016-01-03 07:02:03 | 2016-01-01 07:08:03
    `,
  ],
  [
    8,
    { keep_daily: 30 },
    `
    2016-01-18 12:02:03 | 2016-01-12 21:08:03 | 2016-01-09 21:02:03 | 2016-01-08 20:02:03
    2016-01-07 10:02:03 | 2016-01-06 08:02:03 | 2016-01-05 09:02:03 | 2016-01-04 16:23:03
    2016-01-03 07:02:03 | 2016-01-01 07:08:03 | 2015-11-22 10:20:30 | 2015-11-21 10:20:30
    2015-11-20 10:20:30 | 2015-11-18 10:20:30 | 2015-11-15 10:20:30 | 2015-11-13 10:20:30.1
    2015-11-12 10:20:30 | 2015-11-10 10:20:30 | 2015-11-08 10:20:30 | 2015-10-22 10:20:30
    2015-10-20 10:20:30 | 2015-10-11 10:20:30 | 2015-10-10 10:20:30 | 2015-10-09 10:20:30
    2015-10-08 10:20:30 | 2015-10-06 10:20:30 | 2015-10-05 10:20:30 | 2015-10-02 10:20:30
    2015-10-01 10:20:30 | 2015-09-22 10:20:30
    `,
  ],
  [
    9,
    { max_backups: 5, keep_daily: 5 },
    `
    2016-01-18 12:02:03 | 2016-01-12 21:08:03 | 2016-01-12 21:02:03 | 2016-01-09 21:02:03
    2016-01-08 20:02:03 | 2016-01-07 10:02:03
    `,
  ],
  [
    10,
    { max_backups: 2, keep_daily: 10 },
    `
    2016-01-18 12:02:03 | 2016-01-12 21:08:03 | 2016-01-09 21:02:03 | 2016-01-08 20:02:03
    2016-01-07 10:02:03 | 2016-01-06 08:02:03 | 2016-01-05 09:02:03 | 2016-01-04 16:23:03
    2016-01-03 07:02:03 | 2016-01-01 07:08:03
    `,
  ],
  [
    11,
    { keep_weekly: 2 },
    `
    2016-01-18 12:02:03 | 2016-01-12 21:08:03
    `,
  ],
  [
    12,
    { keep_weekly: 4 },
    `
    2016-01-18 12:02:03 | 2016-01-12 21:08:03 | 2016-01-09 21:02:03 | 2016-01-03 07:02:03
    `,
  ],
  [
    13,
    { keep_daily: 3, keep_weekly: 4 },
    `
    2016-01-18 12:02:03 | 2016-01-12 21:08:03 | 2016-01-09 21:02:03 | 2016-01-03 07:02:03
    `,
  ],
  [
    14,
    { keep_monthly: 6 },
    `
    2016-01-18 12:02:03 | 2015-11-22 10:20:30 | 2015-10-22 10:20:30 | 2015-09-22 10:20:30
    2015-08-22 10:20:30 | 2014-11-22 10:20:30
    `,
  ],
  [
    15,
    { keep_daily: 2, keep_weekly: 2, keep_monthly: 6 },
    `
    2016-01-18 12:02:03 | 2016-01-12 21:08:03 | 2015-11-22 10:20:30 | 2015-10-22 10:20:30
    2015-09-22 10:20:30 | 2015-08-22 10:20:30 | 2014-11-22 10:20:30
    `,
  ],
  [
    16,
    { keep_yearly: 10 },
    `
    2016-01-18 12:02:03 | 2015-11-22 10:20:30 | 2014-11-22 10:20:30 | 2014-08-08 10:20:30
    `,
  ],
  [
    17,
    { keep_daily: 7, keep_weekly: 2, keep_monthly: 3, keep_yearly: 10 },
    `
    2016-01-18 12:02:03 | 2016-01-12 21:08:03 | 2016-01-09 21:02:03 | 2016-01-08 20:02:03
    2016-01-07 10:02:03 | 2016-01-06 08:02:03 | 2016-01-05 09:02:03 | 2015-11-22 10:20:30
    2015-10-22 10:20:30 | 2014-11-22 10:20:30 | 2014-08-08 10:20:30
    `,
  ],
];

const resticTime = (t: string) => new Date(`${t.replace(' ', 'T')}Z`);
const times = (s: string) =>
  s
    .split(/[|\n]/)
    .map((t) => t.trim())
    .filter(Boolean);

describe("retention planner against restic's golden data", () => {
  const snapshots = times(RESTIC_SNAPSHOTS).map((t, i) => ({ id: `r${String(i).padStart(3, '0')}`, at: resticTime(t) }));
  const newestFirst = [...snapshots].sort((a, b) => b.at.getTime() - a.at.getTime());
  const keptTimes = (p: Record<string, number>) =>
    planRetention({ policy: policy({ ...p, min_keep: 1 }), backups: snapshots, timeZone: 'UTC', inUse: new Map() })
      .filter((d) => d.keep)
      .map((d) => d.started_at);

  it('the snapshot list is restic test data: 103 snapshots from 2014-08 to 2016-01', () => {
    assert.equal(snapshots.length, 103);
  });

  for (const [n, p, kept] of RESTIC_KEPT) {
    it(`policy ${n} ${JSON.stringify(p)} keeps what restic keeps`, () => {
      const count = /^the (\d+) newest$/.exec(kept.trim());
      const expected = count ? newestFirst.slice(0, Number(count[1])).map((s) => s.at) : times(kept).map(resticTime);
      assert.deepEqual(
        keptTimes(p),
        expected.map((d) => d.toISOString()),
      );
    });
  }

  it('a tier whose count is not used up keeps the oldest backup too, and says why', () => {
    const plan = planRetention({
      policy: policy({ keep_daily: 7, keep_weekly: 2, keep_monthly: 3, keep_yearly: 10 }),
      backups: snapshots,
      timeZone: 'UTC',
      inUse: new Map(),
    });
    const oldest = plan.at(-1)!;
    assert.equal(oldest.started_at, resticTime('2014-08-08 10:20:30').toISOString());
    assert.equal(oldest.keep, true);
    assert.deepEqual(oldest.reasons, ['oldest (yearly count not used up)']);
    // With every count used up before the walk ends, the oldest goes.
    const full = planRetention({ policy: policy({ keep_monthly: 3 }), backups: snapshots, timeZone: 'UTC', inUse: new Map() });
    assert.equal(full.at(-1)!.keep, false);
  });
});
