import { EventEmitter } from 'node:events';
import type { EventName, EventPayload } from '../../shared/contract.js';

/** Core's typed event bus; both transports forward it (IPC to the window, SSE to browsers). */
export class EventBus {
  private readonly emitter = new EventEmitter().setMaxListeners(100);

  emit<E extends EventName>(name: E, payload: EventPayload<E>): void {
    this.emitter.emit('event', name, payload);
  }

  /** Every event, for a transport. Returns the unsubscribe. */
  onAny(listener: (name: EventName, payload: unknown) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
