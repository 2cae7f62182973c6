import type { ChildProcess } from 'node:child_process';
import { PubSub } from 'graphql-subscriptions';
import type { LiveBus } from './bus.js';
import type { LivePayloadOf } from './topics.js';

/**
 * `npm start` runs every service as its own process without Redis. The supervisor
 * hosts one in-memory bus and its children reach it over Node IPC: a child spawned
 * with an `'ipc'` stdio entry and `FITSYNC_EVENT_HUB=ipc` in its environment gets a
 * hub-backed live bus (and, from `@fitsync/events`, a hub-backed event transport: both
 * share the channel, each reading only its own kinds of message).
 */
export const HUB_ENV = 'FITSYNC_EVENT_HUB';

type ChildMessage = { fitsync: 'hub'; kind: 'publish'; topic: string; payload: unknown } | { fitsync: 'hub'; kind: 'subscribe' | 'unsubscribe'; topic: string };
type HubMessage = { fitsync: 'hub'; kind: 'message'; topic: string; payload: unknown };

/** Whether an IPC message belongs to the hub's protocol (the live and the event halves alike). */
/**
 * The child's end of the npm start supervisor's IPC channel: `post` sends a hub message,
 * `onMessage` hears the hub's. The channel is unref'd, so it never keeps a stopping
 * service alive. Shared by the live bus and the event streams, each with its own kinds.
 */
export function hubChannel<Out, In>(onMessage: (msg: In) => void, onDisconnect?: () => void): { post: (msg: Out) => void } {
  process.on('message', (msg: unknown) => {
    if (isHubMessage(msg)) onMessage(msg as In);
  });
  if (onDisconnect) process.on('disconnect', onDisconnect);
  // Listening for 'message' or 'disconnect' refs the channel: unref it after both.
  (process.channel as unknown as { unref?(): void } | undefined)?.unref?.();
  return {
    post(msg) {
      if (!process.connected) throw new Error('the npm start supervisor is gone: no event hub');
      process.send!(msg);
    },
  };
}

export const isHubMessage = (m: unknown): m is { fitsync: 'hub'; kind: string } =>
  typeof m === 'object' && m !== null && (m as { fitsync?: unknown }).fitsync === 'hub';

export interface LiveHub {
  /** Relays this child's live messages to the children subscribed to their topic. */
  attach(child: ChildProcess): void;
}

/** The supervisor's side: one set of subscribers per topic across all its children. */
export function createLiveHub(): LiveHub {
  const subscribers = new Map<string, Set<ChildProcess>>();
  const send = (child: ChildProcess, msg: HubMessage) => {
    if (child.connected) child.send(msg, (err) => void err); // a child that just exited is no error here
  };
  return {
    attach(child) {
      child.on('message', (msg: unknown) => {
        if (!isHubMessage(msg)) return;
        const m = msg as ChildMessage;
        if (m.kind === 'publish') {
          for (const sub of subscribers.get(m.topic) ?? []) send(sub, { fitsync: 'hub', kind: 'message', topic: m.topic, payload: m.payload });
        } else if (m.kind === 'subscribe') {
          let set = subscribers.get(m.topic);
          if (!set) subscribers.set(m.topic, (set = new Set()));
          set.add(child);
        } else if (m.kind === 'unsubscribe') {
          subscribers.get(m.topic)?.delete(child);
        }
      });
      child.once('exit', () => {
        for (const set of subscribers.values()) set.delete(child);
      });
    },
  };
}

let bus: LiveBus | undefined;

/** The child's side, when this process was started by a hub; undefined otherwise. */
export function hubLiveBus(): LiveBus | undefined {
  if (process.env[HUB_ENV] !== 'ipc' || !process.send) return undefined;
  return (bus ??= connectLiveHub());
}

function connectLiveHub(): LiveBus {
  const local = new PubSub<Record<string, unknown>>();
  const topics = new Map<string, number>();
  const { post } = hubChannel<ChildMessage, HubMessage>((m) => {
    if (m.kind === 'message') void local.publish(m.topic, m.payload);
  });

  return {
    async publish(topic, payload) {
      post({ fitsync: 'hub', kind: 'publish', topic, payload });
    },
    subscribe<T extends string>(topic: T) {
      if (!topics.get(topic)) post({ fitsync: 'hub', kind: 'subscribe', topic });
      topics.set(topic, (topics.get(topic) ?? 0) + 1);
      const it = local.asyncIterableIterator(topic) as AsyncIterableIterator<LivePayloadOf<T>>;
      const done = it.return?.bind(it);
      let released = false;
      it.return = async (value?: unknown) => {
        if (!released) {
          released = true;
          const left = (topics.get(topic) ?? 1) - 1;
          topics.set(topic, left);
          if (!left && process.connected) post({ fitsync: 'hub', kind: 'unsubscribe', topic });
        }
        return done ? done(value) : { done: true, value: undefined };
      };
      return it;
    },
    close: async () => undefined,
  };
}
