import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextRuns } from '../../shared/cron.js';

// shared/cron.ts nextRuns is the one implementation behind the UI preview and the scheduler's slots.
const cases: [what: string, cron: string, tz: string, from: string, expected: string[]][] = [
  ['New York spring-forward: 02:30 runs at 03:00 EDT', '30 2 * * *', 'America/New_York', '2026-03-07T12:00Z', ['03-08T07:00', '03-09T06:30']],
  ['New York fall-back: 01:30 once, the first', '30 1 * * *', 'America/New_York', '2026-10-31T12:00Z', ['11-01T05:30', '11-02T06:30']],
  ['…even asked from inside the repeated hour (cron-parser 4 offers the second)', '30 1 * * *', 'America/New_York', '2026-11-01T06:00Z', ['11-02T06:30']],
  ['Lisbon spring-forward: 01:30 runs at 02:00 WEST', '30 1 * * *', 'Europe/Lisbon', '2026-03-28T12:00Z', ['03-29T01:00', '03-30T00:30']],
  ['Lisbon fall-back: 01:30 once', '30 1 * * *', 'Europe/Lisbon', '2026-10-24T12:00Z', ['10-25T00:30', '10-26T01:30']],
  [
    'every 30 min keeps 30 real minutes (spring)',
    '*/30 * * * *',
    'America/New_York',
    '2026-03-08T05:45Z',
    ['03-08T06:00', '03-08T06:30', '03-08T07:00', '03-08T07:30'],
  ],
  [
    'every 30 min keeps 30 real minutes (fall)',
    '*/30 * * * *',
    'Europe/Lisbon',
    '2026-10-24T23:45Z',
    ['10-25T00:00', '10-25T00:30', '10-25T01:00', '10-25T01:30', '10-25T02:00'],
  ],
  ['hourly skips the hour that does not exist', '15 * * * *', 'America/New_York', '2026-03-08T05:45Z', ['03-08T06:15', '03-08T07:15']],
  ['day of month or day of week (standard cron)', '0 9 1 * 0', 'UTC', '2026-03-06T00:00Z', ['03-08T09:00', '03-15T09:00']],
  ['the last day of the month', '0 9 L * *', 'UTC', '2026-03-06T00:00Z', ['03-31T09:00', '04-30T09:00']],
];

describe('nextRuns', () => {
  for (const [what, cron, tz, from, expected] of cases) {
    it(what, () => {
      const runs = nextRuns(cron, tz, expected.length, new Date(from)).map((r) => r.slice(5, 16));
      assert.deepEqual(runs, expected);
    });
  }

  it('29 February is found years ahead', () => {
    assert.deepEqual(nextRuns('0 0 29 2 *', 'UTC', 1, new Date('2026-03-01T00:00Z')), ['2028-02-29T00:00:00.000Z']);
  });
});
