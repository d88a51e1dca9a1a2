import type { ChannelName, EventName, EventPayload, InputOf, OutputOf } from './contract.js';
import type { Result } from './errors.js';

/**
 * What the renderer talks to. The Electron preload exposes it as `window.dataguardian`; in a
 * browser the api client builds the same over `POST /api/rpc/<channel>` and `GET /api/events` (SSE).
 */
export interface Bridge {
  call<N extends ChannelName>(name: N, input: InputOf<N>): Promise<Result<OutputOf<N>>>;
  subscribe<E extends EventName>(name: E, listener: (payload: EventPayload<E>) => void): () => void;
  /** Desktop-only abilities; headless falls back to text fields. */
  capabilities: { nativeDialogs: boolean };
  /** Desktop only: a folder or file chosen in the native dialog (`save`: where to write a new file), or null when cancelled. */
  pickPath?(options: { kind: 'folder' | 'file' | 'save'; title?: string; defaultName?: string }): Promise<string | null>;
}

declare global {
  interface Window {
    dataguardian?: Bridge;
  }
}
