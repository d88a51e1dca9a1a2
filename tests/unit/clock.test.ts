import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { systemClock } from '../../electron/core/kernel/clock.js';
import { ManualClock } from '../support/clock.js';

describe('clock', () => {
  it('a manual clock fires due timers in time order, each seeing its own time, and never one that was cancelled', async () => {
    const clock = new ManualClock('2026-03-29T00:00:00Z');
    const seen: string[] = [];
    clock.at(new Date('2026-03-29T02:00:00Z'), () => seen.push(`b ${clock.now().toISOString()}`));
    clock.at(new Date('2026-03-29T01:00:00Z'), () => seen.push(`a ${clock.now().toISOString()}`));
    const cancel = clock.at(new Date('2026-03-29T01:30:00Z'), () => seen.push('cancelled'));
    cancel();
    await clock.advance(90 * 60_000);
    assert.deepEqual(seen, ['a 2026-03-29T01:00:00.000Z']);
    await clock.set('2026-03-30T00:00:00Z');
    assert.deepEqual(seen, ['a 2026-03-29T01:00:00.000Z', 'b 2026-03-29T02:00:00.000Z']);
    assert.equal(clock.now().toISOString(), '2026-03-30T00:00:00.000Z');
  });

  it('the system clock fires a time already past at once, and a cancelled timer never', async () => {
    let fired = 0;
    const cancel = systemClock.at(new Date(Date.now() + 60_000), () => fired++);
    cancel();
    await new Promise<void>((resolve) => systemClock.at(new Date(Date.now() - 1000), resolve));
    assert.equal(fired, 0);
  });
});
