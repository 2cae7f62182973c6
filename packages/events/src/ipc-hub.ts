import type { ChildProcess } from 'node:child_process';
import { HUB_ENV, createLiveHub, hubChannel, isHubMessage } from '@fitsync/live';
import { createMemoryStreams } from './streams-memory.js';
import type { StreamBackend } from './streams.js';

// `npm start` runs every service as its own process without Redis. The supervisor
// hosts one in-memory bus (event streams and live topics) and its children reach it
// over Node IPC: a child spawned with an `'ipc'` stdio entry and `FITSYNC_EVENT_HUB=ipc`
// in its environment gets a hub-backed event transport (this module) and live bus
// (`@fitsync/live`); the two share the channel, each reading only its own kinds of message.

type StreamMethod = Exclude<keyof StreamBackend, 'close'>;
type ChildMessage = { fitsync: 'hub'; kind: 'call'; id: number; method: StreamMethod; args: unknown[] } | { fitsync: 'hub'; kind: 'cancel'; id: number };
type HubMessage =
  { fitsync: 'hub'; kind: 'result'; id: number; ok: true; value: unknown } | { fitsync: 'hub'; kind: 'result'; id: number; ok: false; error: string };

export interface EventHub {
  /** The environment a child needs to use the hub (spawn it with an `'ipc'` stdio entry). */
  readonly env: Record<string, string>;
  attach(child: ChildProcess): void;
  close(): Promise<void>;
}

/** The supervisor's side: one bus for all its children. */
export function createEventHub(): EventHub {
  const streams = createMemoryStreams();
  const live = createLiveHub();
  const send = (child: ChildProcess, msg: HubMessage) => {
    if (child.connected) child.send(msg, (err) => void err); // a child that just exited is no error here
  };
  return {
    env: { [HUB_ENV]: 'ipc' },
    attach(child) {
      live.attach(child);
      const calls = new Map<number, AbortController>();
      child.on('message', (msg: unknown) => {
        if (!isHubMessage(msg)) return;
        const m = msg as ChildMessage;
        if (m.kind === 'call') {
          const abort = new AbortController();
          calls.set(m.id, abort);
          const args = m.method === 'readGroup' ? [...m.args.slice(0, 5), abort.signal] : m.args;
          (streams[m.method] as (...a: unknown[]) => Promise<unknown>)(...args)
            .then(
              (value) => send(child, { fitsync: 'hub', kind: 'result', id: m.id, ok: true, value }),
              (err: unknown) => send(child, { fitsync: 'hub', kind: 'result', id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
            )
            .finally(() => calls.delete(m.id));
        } else if (m.kind === 'cancel') {
          calls.get(m.id)?.abort();
        }
      });
      child.once('exit', () => {
        for (const c of calls.values()) c.abort();
      });
    },
    close: () => streams.close(),
  };
}

let client: StreamBackend | undefined;

/** The child's side of the event streams, when this process was started by a hub; undefined otherwise. */
export function hubStreams(): StreamBackend | undefined {
  if (process.env[HUB_ENV] !== 'ipc' || !process.send) return undefined;
  return (client ??= connectHub());
}

function connectHub(): StreamBackend {
  let nextId = 1;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const { post } = hubChannel<ChildMessage, HubMessage>(
    (m) => {
      if (m.kind === 'result') {
        const w = waiting.get(m.id);
        waiting.delete(m.id);
        if (m.ok) w?.resolve(m.value);
        else w?.reject(new Error(m.error));
      }
    },
    () => {
      for (const w of waiting.values()) w.reject(new Error('the npm start supervisor disconnected'));
      waiting.clear();
    },
  );

  const call = (method: StreamMethod, args: unknown[], signal?: AbortSignal) =>
    new Promise<unknown>((resolve, reject) => {
      if (signal?.aborted) return resolve([]);
      const id = nextId++;
      const cancel = () => {
        waiting.delete(id);
        resolve([]);
        try {
          post({ fitsync: 'hub', kind: 'cancel', id });
        } catch {
          // supervisor gone: nothing to cancel
        }
      };
      // A consumer hands the same signal to every read it makes: a listener left behind per call would pile up.
      const settled = () => signal?.removeEventListener('abort', cancel);
      waiting.set(id, {
        resolve: (value) => (settled(), resolve(value)),
        reject: (err) => (settled(), reject(err)),
      });
      try {
        post({ fitsync: 'hub', kind: 'call', id, method, args });
      } catch (err) {
        waiting.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      signal?.addEventListener('abort', cancel, { once: true });
    });

  return {
    add: (...a) => call('add', a) as Promise<string>,
    ensureGroup: (...a) => call('ensureGroup', a) as Promise<void>,
    readGroup: (group, consumer, names, count, blockMs, signal) => call('readGroup', [group, consumer, names, count, blockMs], signal) as never,
    pendingIdle: (...a) => call('pendingIdle', a) as never,
    claim: (...a) => call('claim', a) as never,
    ack: (...a) => call('ack', a) as Promise<void>,
    backlog: (...a) => call('backlog', a) as Promise<number>,
    range: (...a) => call('range', a) as never,
    del: (...a) => call('del', a) as Promise<number>,
    close: async () => undefined,
  };
}
