import type { Clock } from '../kernel/clock.js';

/**
 * Why a sink could not deliver, in words an admin can act on ("HTTP 502", "535 Authentication failed").
 * `retryable`: trying again later may work (a server error, a refused connection); a refused password
 * or a wrong address will not.
 */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

export interface DeliveryOptions {
  /** How long one try may take before it counts as failed. */
  timeoutMs: number;
  /** The waits between tries: two waits make three tries. */
  retryDelaysMs: number[];
}

/** Three tries over about 12 seconds: a webhook or mail server that restarts is waited for, a dead one is reported soon. */
export const DELIVERY_DEFAULTS: DeliveryOptions = { timeoutMs: 10_000, retryDelaysMs: [2_000, 10_000] };

/** Waits on the core's clock, so tests drive the backoff; an abort (the app closing) ends the wait. */
function wait(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const cancel = clock.at(new Date(clock.now().getTime() + ms), () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
    const onAbort = () => {
      cancel();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Tries `send` until it works, the error is not worth retrying, or the tries run out; the last error says how many tries. */
export async function withRetries(send: () => Promise<void>, options: DeliveryOptions, clock: Clock, signal: AbortSignal): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (e) {
      const error = e instanceof DeliveryError ? e : new DeliveryError((e as Error).message, false);
      const delay = options.retryDelaysMs[attempt - 1];
      if (!error.retryable || delay === undefined || signal.aborted) {
        throw attempt > 1 ? new DeliveryError(`${error.message} after ${attempt} tries`, false) : error;
      }
      await wait(clock, delay, signal);
    }
  }
}
