import type { Clock } from '../../electron/core/kernel/clock.js';

/**
 * A clock the test moves: `advance` and `set` fire every timer that comes due, in time order, each with
 * `now()` at its own time. Nothing sleeps.
 */
export class ManualClock implements Clock {
  private current: number;
  private timers: { at: number; fn: () => void; seq: number }[] = [];
  private seq = 0;

  constructor(start: Date | string) {
    this.current = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  at(when: Date, fn: () => void): () => void {
    const timer = { at: when.getTime(), fn, seq: this.seq++ };
    this.timers.push(timer);
    return () => void (this.timers = this.timers.filter((t) => t !== timer));
  }

  /** Moves to `target`, firing due timers on the way; awaits what they started between steps. */
  async set(target: Date | string): Promise<void> {
    const end = new Date(target).getTime();
    for (;;) {
      const next = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.current = Math.max(this.current, next.at);
      next.fn();
      await new Promise((r) => setImmediate(r));
    }
    this.current = Math.max(this.current, end);
  }

  advance(ms: number): Promise<void> {
    return this.set(new Date(this.current + ms));
  }
}
