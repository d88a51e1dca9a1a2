// How fast a folder's disk answers, and how long synchronous work may hold the event loop.

/** Synchronous reads run for at most this long before the event loop gets a turn (the HTTP server, the UI, the pipeline's writes). */
export const TURN_MS = 1;
/**
 * Entries whose synchronous calls (lstat, and open, read and close for a small file) took this long, several in a row, are on
 * a slow or network disk: the rest of their folder goes through the pool, so that waiting on the disk never holds the event
 * loop. In a row, so that a busy machine pausing the process now and then does not count as a slow disk.
 */
const SLOW_MS = 5;
const SLOW_IN_A_ROW = 3;

/** How a folder's disk answers synchronous calls. */
export class Pace {
  private late = 0;

  constructor(public slow = false) {}

  /** One entry's synchronous calls took `ms`. */
  record(ms: number) {
    this.late = ms > SLOW_MS ? this.late + 1 : 0;
    if (this.late >= SLOW_IN_A_ROW) this.slow = true;
  }
}

/** Synchronous work in turns of at most TURN_MS, with the event loop running in between. */
export class Turns {
  private started = performance.now();

  async breathe() {
    if (performance.now() - this.started < TURN_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.started = performance.now();
  }
}
