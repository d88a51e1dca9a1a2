/** How wrong passwords slow a client down: free tries, then a delay that doubles up to a cap. */
export interface DelaySchedule {
  freeFailures: number;
  firstDelayMs: number;
  maxDelayMs: number;
}

export const LOGIN_DELAYS: DelaySchedule = { freeFailures: 5, firstDelayMs: 1000, maxDelayMs: 60_000 };

/** A client quiet this long starts afresh. */
const FORGET_AFTER_MS = 3600_000;
/** Attempts one client may have waiting at once; more are refused at once instead of piling up. */
const MAX_WAITING = 4;
/** Beyond this many clients tracked, the quiet ones are forgotten first. */
const MAX_CLIENTS = 10_000;

interface Client {
  failures: number;
  waiting: number;
  lastSeen: number;
  /** Attempts of one client run one after another, so sending them in parallel skips no delay. */
  queue: Promise<unknown>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Guessing the password gets slower with every wrong try from the same address (1 s, 2 s, 4 s, ... after
 * five), and a right one resets it. The answer is delayed rather than refused, so the user who finally
 * types the right password gets in once the delay has passed.
 */
export class FailureThrottle {
  private readonly clients = new Map<string, Client>();

  constructor(private readonly schedule: DelaySchedule = LOGIN_DELAYS) {}

  delayAfter(failures: number): number {
    const { freeFailures, firstDelayMs, maxDelayMs } = this.schedule;
    if (failures < freeFailures) return 0;
    return Math.min(maxDelayMs, firstDelayMs * 2 ** Math.min(failures - freeFailures, 30));
  }

  /** Runs `check` for `address` after its delay; 'busy' when it already has too many attempts waiting. */
  async attempt(address: string, check: () => Promise<boolean>): Promise<boolean | 'busy'> {
    const client = this.clientOf(address);
    if (client.waiting >= MAX_WAITING) return 'busy';
    client.waiting++;
    const run = client.queue.then(async () => {
      await sleep(this.delayAfter(client.failures));
      const ok = await check();
      client.failures = ok ? 0 : client.failures + 1;
      client.lastSeen = Date.now();
      return ok;
    });
    client.queue = run.catch(() => undefined);
    try {
      return await run;
    } finally {
      client.waiting--;
      if (client.failures === 0 && client.waiting === 0) this.clients.delete(address);
    }
  }

  private clientOf(address: string): Client {
    const now = Date.now();
    let client = this.clients.get(address);
    if (client && client.waiting === 0 && now - client.lastSeen > FORGET_AFTER_MS) client = undefined;
    if (!client) {
      if (this.clients.size >= MAX_CLIENTS) this.forgetQuiet(now);
      client = { failures: 0, waiting: 0, lastSeen: now, queue: Promise.resolve() };
      this.clients.set(address, client);
    }
    return client;
  }

  private forgetQuiet(now: number): void {
    for (const [address, client] of this.clients) {
      if (client.waiting === 0 && now - client.lastSeen > 60_000) this.clients.delete(address);
    }
  }
}
