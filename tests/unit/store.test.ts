// The renderer's store in Node. Its transport is a bridge of the test's own (window.dataguardian, as the
// Electron preload provides it): the browser's HTTP and SSE transport cannot run here. The bridge answers
// from a "server" list the test changes, each answer after a delay the test chooses, so replies arrive out
// of order as they do on a busy machine.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

interface Run {
  id: string;
  status: string;
}

let server: Run[] = [];
let calls = 0;
let inFlight = 0;
/** The delay of the n-th call: the first answers last. */
let delayOf: (n: number) => number = () => 0;
const listeners = new Map<string, Set<(payload: unknown) => void>>();

const EMPTY: Record<string, unknown> = { 'notifications.unreadCount': { unread: 0 }, 'overview.get': {}, 'settings.get': {}, 'system.info': {} };

(globalThis as unknown as { window: unknown }).window = {
  dataguardian: {
    async call(name: string) {
      const n = calls++;
      // The answer is what the server held when the request reached it.
      const data = name === 'executions.list' ? server.map((r) => ({ ...r })) : (EMPTY[name] ?? []);
      inFlight++;
      await new Promise((r) => setTimeout(r, delayOf(n)));
      inFlight--;
      return { ok: true, data };
    },
    subscribe(name: string, listener: (payload: unknown) => void) {
      const set = listeners.get(name) ?? new Set();
      set.add(listener);
      listeners.set(name, set);
      return () => set.delete(listener);
    },
    capabilities: { nativeDialogs: false },
  },
};

// tsx compiles the renderer's JSX (labels.tsx) with the classic runtime: React.createElement.
(globalThis as unknown as { React: unknown }).React = (await import('react')).default;
const { useStore, startLiveUpdates } = await import('../../renderer/src/store.js');
const stop = startLiveUpdates();
after(stop);

const emit = (name: string, payload: unknown) => listeners.get(name)?.forEach((l) => l(payload));
const shown = () => (useStore.getState().executions.data as Run[] | undefined)?.map((r) => `${r.id}:${r.status}`);
const truth = () => server.map((r) => `${r.id}:${r.status}`);

async function settled() {
  while (inFlight > 0) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 5));
}

describe('the store under a burst of events', () => {
  it('50 status events whose replies arrive out of order leave Activity equal to the server', async () => {
    server = [];
    calls = 0;
    // Every reply is slower than the next one asked: without care, the oldest answer lands last.
    delayOf = (n) => Math.max(2, 200 - n * 4);
    const statuses = ['queued', 'running', 'cancelled'];
    for (let i = 0; i < 50; i++) {
      const id = `run-${Math.floor(i / 3)}`;
      const status = statuses[i % 3]!;
      const existing = server.find((r) => r.id === id);
      if (existing) existing.status = status;
      else server = [{ id, status }, ...server];
      emit('execution.status', { execution_id: id, job_id: null, status, error_message: null });
      await new Promise((r) => setTimeout(r, 1));
    }
    await settled();
    assert.deepEqual(shown(), truth());
    assert.equal(shown()!.at(-1), 'run-0:cancelled');
    // Coalesced: far fewer list requests than events.
    assert.ok(calls < 50, `${calls} requests for 50 events`);
  });

  it('direct loads: the newest request wins even when an older reply arrives after it', async () => {
    server = [{ id: 'a', status: 'running' }];
    calls = 0;
    delayOf = (n) => (n === 0 ? 120 : 5);
    const first = useStore.getState().load('executions');
    server = [{ id: 'a', status: 'completed' }];
    const second = useStore.getState().load('executions');
    await Promise.all([first, second]);
    assert.deepEqual(shown(), ['a:completed']);
  });
});
