import type { EventPayload } from '../../../shared/contract.js';
import type { KeyPair } from '../kernel/age.js';
import type { EventBus } from '../kernel/events.js';

/**
 * Keys pasted for one run (a restore or restore test in write-only mode), held in this process's memory
 * only, from the API call that queued the run to the run's end: never in the execution's row, a log or a
 * file. A run another process takes over finds none here, and asks for the key again.
 */
/** A run another instance took (it never tells this one that it ended) lets its keys go after this long. */
const AT_MOST_MS = 24 * 3600_000;

export class RunKeys {
  private readonly keys = new Map<string, KeyPair[]>();

  constructor(events: EventBus) {
    // Whatever ends a run (done, failed, cancelled while queued, taken over), its keys go with it.
    events.onAny((name, payload) => {
      if (name !== 'execution.status') return;
      const { execution_id, status } = payload as EventPayload<'execution.status'>;
      if (status !== 'queued' && status !== 'running') this.keys.delete(execution_id);
    });
  }

  hold(executionId: string, keys: KeyPair[]): void {
    if (!keys.length) return;
    this.keys.set(executionId, keys);
    setTimeout(() => this.keys.delete(executionId), AT_MOST_MS).unref();
  }

  of(executionId: string): KeyPair[] {
    return this.keys.get(executionId) ?? [];
  }

  drop(executionId: string): void {
    this.keys.delete(executionId);
  }
}
