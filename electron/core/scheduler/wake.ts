/**
 * Notices a sleep and wake, or the wall clock set by hand: the wall clock (the app's Clock) against a
 * monotonic one, compared every `everyMs`. Timers armed for a wall time are late after a sleep (they
 * count monotonic time) and wrong after a jump, so the scheduler looks again at once instead.
 * Returns the stop.
 */
export function watchWallClock(
  wallNow: () => number,
  onJump: (driftMs: number) => void,
  { everyMs = 15_000, toleranceMs = 60_000, monotonic = () => performance.now() } = {},
): () => void {
  let wall = wallNow();
  let mono = monotonic();
  const timer = setInterval(() => {
    const w = wallNow();
    const m = monotonic();
    const drift = w - wall - (m - mono);
    wall = w;
    mono = m;
    if (Math.abs(drift) > toleranceMs) onJump(drift);
  }, everyMs);
  timer.unref?.();
  return () => clearInterval(timer);
}
