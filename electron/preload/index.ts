import { contextBridge, ipcRenderer } from 'electron';
import { channelNames, EVENT_NAMES } from '../../shared/contract.js';
import type { Bridge } from '../../shared/bridge.js';

// The window sees two functions and a capability flag, never ipcRenderer itself.
const channels = new Set<string>(channelNames());
const eventNames = new Set<string>(EVENT_NAMES);

const bridge: Bridge = {
  call: (async (name: string, input: unknown) => {
    if (!channels.has(name)) return { ok: false, error: { code: 'not_found', message: `Unknown channel: ${name}` } };
    return ipcRenderer.invoke('dg:call', name, input);
  }) as Bridge['call'],
  subscribe: ((name: string, listener: (payload: unknown) => void) => {
    if (!eventNames.has(name)) throw new Error(`Unknown event: ${name}`);
    const handler = (_e: unknown, event: string, payload: unknown) => {
      if (event === name) listener(payload);
    };
    ipcRenderer.on('dg:event', handler);
    return () => ipcRenderer.off('dg:event', handler);
  }) as Bridge['subscribe'],
  capabilities: { nativeDialogs: true },
  pickPath: (options) => ipcRenderer.invoke('dg:pick-path', options),
};

contextBridge.exposeInMainWorld('dataguardian', bridge);
// The shell holds events until the page has subscribed.
window.addEventListener('DOMContentLoaded', () => ipcRenderer.send('dg:ready'));
