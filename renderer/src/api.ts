import type { Bridge } from '../../shared/bridge.js';
import { EVENT_NAMES, type ChannelName, type EventName, type EventPayload, type InputOf, type OutputOf } from '../../shared/contract.js';
import type { AppErrorShape, Result } from '../../shared/errors.js';

/** A failed call, thrown by `api.run`: the UI reads `code`, `issues` and `details` to act on it. */
export class ApiError extends Error implements AppErrorShape {
  readonly code: AppErrorShape['code'];
  readonly issues: AppErrorShape['issues'];
  readonly details: AppErrorShape['details'];

  constructor(shape: AppErrorShape) {
    super(shape.message);
    this.name = 'ApiError';
    this.code = shape.code;
    this.issues = shape.issues;
    this.details = shape.details;
  }
}

type Listener = (payload: unknown) => void;

/**
 * The contract over HTTP for a browser: `POST /api/rpc/<channel>` answers a Result; events arrive over
 * one EventSource. A lost stream reconnects by itself; `onReconnect` listeners re-query then, since
 * events that happened while it was down are gone.
 */
function httpBridge(onReconnect: () => void): Bridge {
  const listeners = new Map<string, Set<Listener>>();
  let source: EventSource | undefined;
  let opened = false;
  let lost = false;

  function connect() {
    if (source || typeof EventSource === 'undefined') return;
    source = new EventSource('./api/events');
    source.onopen = () => {
      if (opened && lost) onReconnect();
      opened = true;
      lost = false;
    };
    source.onerror = () => {
      lost = true;
    };
    for (const name of EVENT_NAMES) {
      source.addEventListener(name, (e) => {
        let payload: unknown;
        try {
          payload = JSON.parse((e as MessageEvent<string>).data);
        } catch {
          return;
        }
        for (const l of listeners.get(name) ?? []) l(payload);
      });
    }
  }

  return {
    async call(name, input) {
      try {
        const res = await fetch(`./api/rpc/${name}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(input ?? {}),
          credentials: 'same-origin',
        });
        // A login-protected server whose session ended: its page asks for the password again.
        if (res.status === 401) window.location.reload();
        const text = await res.text();
        if (!text) return { ok: false, error: { code: 'internal', message: `The server answered ${res.status} with no body` } };
        return JSON.parse(text);
      } catch (e) {
        return {
          ok: false,
          error: { code: 'internal', message: `Could not reach DataGuardian: ${(e as Error).message}. Is the server running?` },
        };
      }
    },
    subscribe(name, listener) {
      connect();
      const set = listeners.get(name) ?? new Set<Listener>();
      set.add(listener as Listener);
      listeners.set(name, set);
      return () => set.delete(listener as Listener);
    },
    capabilities: { nativeDialogs: false },
  };
}

const reconnectListeners = new Set<() => void>();
const bridge: Bridge = window.dataguardian ?? httpBridge(() => reconnectListeners.forEach((l) => l()));

export const api = {
  /** The contract's Result, never throws. */
  call<N extends ChannelName>(name: N, input: InputOf<N>): Promise<Result<OutputOf<N>>> {
    return bridge.call(name, input);
  },
  /** The data, or an ApiError thrown. */
  async run<N extends ChannelName>(name: N, input: InputOf<N>): Promise<OutputOf<N>> {
    const result = await bridge.call(name, input);
    if (!result.ok) throw new ApiError(result.error);
    return result.data;
  },
  on<E extends EventName>(name: E, listener: (payload: EventPayload<E>) => void): () => void {
    return bridge.subscribe(name, listener);
  },
  /** Called after the event stream came back from an interruption. */
  onReconnect(listener: () => void): () => void {
    reconnectListeners.add(listener);
    return () => reconnectListeners.delete(listener);
  },
  capabilities: bridge.capabilities,
  pickPath: bridge.pickPath?.bind(bridge),
};

export const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));
