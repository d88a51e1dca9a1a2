import type { EventName, EventPayload } from '../../../shared/contract.js';
import { scoped } from './log.js';

const log = scoped('events');
type Listener = (name: EventName, payload: unknown) => void;

/**
 * Core's typed event bus; both transports forward it (IPC to the window, SSE to browsers). Events
 * are hints told after the fact: a listener that throws is logged and never fails the work that emitted.
 */
export class EventBus {
  private readonly listeners = new Set<Listener>();

  emit<E extends EventName>(name: E, payload: EventPayload<E>): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(name, payload);
      } catch (e) {
        log.error(`a listener of ${name} failed`, e);
      }
    }
  }

  /** Every event, for a transport. Returns the unsubscribe. */
  onAny(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }
}
