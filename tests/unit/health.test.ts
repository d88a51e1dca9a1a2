import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { settingsUpdate } from '../../shared/schemas/settings.js';
import { noticeFor, type Condition } from '../../electron/core/health/conditions.js';
import { longestGap, overdueAfter, OVERDUE_GRACE_MS } from '../../electron/core/health/overdue.js';
import { consecutiveFailures, datasourceStatus } from '../../electron/core/health/status.js';

const ok = (latency_ms = 5) => ({ status: 'ok' as const, latency_ms });
const down = { status: 'unreachable' as const, latency_ms: null };
const HOUR = 3_600_000;

describe('datasource status from its latest checks (newest first)', () => {
  it('unknown before any check', () => assert.equal(datasourceStatus([], 1000), 'unknown'));
  it('healthy when it answered under the threshold', () => assert.equal(datasourceStatus([ok(999), down, down], 1000), 'healthy'));
  it('warning when it answered slowly', () => assert.equal(datasourceStatus([ok(1001)], 1000), 'warning'));
  it('warning after one or two failures in a row', () => {
    assert.equal(datasourceStatus([down, ok()], 1000), 'warning');
    assert.equal(datasourceStatus([down, down, ok()], 1000), 'warning');
    assert.equal(datasourceStatus([down], 1000), 'warning');
  });
  it('critical from the third failure in a row', () => {
    assert.equal(datasourceStatus([down, down, down], 1000), 'critical');
    assert.equal(datasourceStatus([down, down, down, down, ok()], 1000), 'critical');
  });
  it('counts failures up to the first answer', () => {
    assert.equal(consecutiveFailures([down, { status: 'timeout', latency_ms: null }, ok(), down]), 2);
    assert.equal(consecutiveFailures([ok(), down]), 0);
  });
});

describe('a condition notifies on changes, reminds per cooldown, and says when it clears', () => {
  const at = (iso: string) => new Date(iso);
  const raised: Condition = {
    kind: 'datasource',
    entity_id: '00000000-0000-4000-8000-000000000000',
    level: 'warning',
    raised_at: at('2026-03-01T00:00:00Z'),
    last_notified_at: at('2026-03-01T00:00:00Z'),
    cleared_at: null,
  };
  const day = 24 * HOUR;
  it('raises once', () => {
    assert.equal(noticeFor(null, 'warning', at('2026-03-01T00:00:00Z'), day), 'raised');
    assert.equal(noticeFor(raised, 'warning', at('2026-03-01T23:59:59Z'), day), null);
  });
  it('reminds once the cooldown has passed', () => assert.equal(noticeFor(raised, 'warning', at('2026-03-02T00:00:00Z'), day), 'reminder'));
  it('escalates and eases', () => {
    assert.equal(noticeFor(raised, 'critical', at('2026-03-01T00:01:00Z'), day), 'escalated');
    assert.equal(noticeFor({ ...raised, level: 'critical' }, 'warning', at('2026-03-01T00:01:00Z'), day), 'eased');
  });
  it('clears once, and is raised again afterwards', () => {
    assert.equal(noticeFor(raised, null, at('2026-03-01T01:00:00Z'), day), 'cleared');
    const cleared = { ...raised, cleared_at: at('2026-03-01T01:00:00Z') };
    assert.equal(noticeFor(cleared, null, at('2026-03-01T02:00:00Z'), day), null);
    assert.equal(noticeFor(cleared, 'warning', at('2026-03-01T02:00:00Z'), day), 'raised');
    assert.equal(noticeFor(null, null, at('2026-03-01T02:00:00Z'), day), null);
  });
});

describe('when a job is overdue', () => {
  const daily = { schedule_cron: '0 2 * * *', schedule_timezone: 'America/New_York', jitter_minutes: 0 };
  it('a daily job: 1.5 days plus the grace', () => {
    assert.equal(longestGap(daily, new Date('2026-04-01T00:00:00Z')), 24 * HOUR);
    assert.equal(overdueAfter(daily, new Date('2026-04-01T00:00:00Z')), 36 * HOUR + OVERDUE_GRACE_MS);
  });
  it('across the autumn DST change a day is 25 hours, the longest gap', () => {
    assert.equal(longestGap(daily, new Date('2026-10-25T00:00:00Z')), 25 * HOUR);
  });
  it('weekdays only: the weekend is the longest gap', () => {
    assert.equal(longestGap({ schedule_cron: '0 2 * * 1-5', schedule_timezone: 'UTC' }, new Date('2026-04-01T00:00:00Z')), 72 * HOUR);
  });
  it('the random delay adds to the grace', () => {
    assert.equal(overdueAfter({ ...daily, jitter_minutes: 30 }, new Date('2026-04-01T00:00:00Z')), 36 * HOUR + OVERDUE_GRACE_MS + 30 * 60_000);
  });
});

describe('the health settings refuse values that make no sense', () => {
  it('latency threshold and reminder cooldown', () => {
    for (const bad of [
      { 'system.health_latency_warning_ms': 0 },
      { 'system.health_latency_warning_ms': 'soon' },
      { 'notifications.reminder_cooldown_hours': 0.5 },
      { 'notifications.reminder_cooldown_hours': 10_000 },
      { 'system.health_check_interval_ms': 1000 },
    ]) {
      assert.equal(settingsUpdate.safeParse(bad).success, false, JSON.stringify(bad));
    }
    assert.ok(settingsUpdate.safeParse({ 'system.health_latency_warning_ms': 250, 'notifications.reminder_cooldown_hours': 6 }).success);
  });
});
