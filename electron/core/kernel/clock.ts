/**
 * Time as the core reads it. Scheduling, retention and health ask this instead of `new Date()` and
 * `setTimeout`, so tests can drive months of schedule (DST days included) without sleeping.
 */
export interface Clock {
  now(): Date;
  /** Calls `fn` once `now()` reaches `when` (at once if it already has). Returns the cancel. */
  at(when: Date, fn: () => void): () => void;
}

// setTimeout takes at most 2^31-1 ms (24.8 days); a later time is reached in steps.
const MAX_DELAY = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => new Date(),
  at(when, fn) {
    let timer: NodeJS.Timeout;
    const arm = () => {
      const delay = when.getTime() - Date.now();
      if (delay <= 0) return void fn();
      timer = setTimeout(arm, Math.min(delay, MAX_DELAY));
      timer.unref?.();
    };
    timer = setTimeout(arm, 0);
    timer.unref?.();
    return () => clearTimeout(timer);
  },
};
