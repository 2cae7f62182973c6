import { LIVE_MESSAGE_EXTENSION, type LiveMessage, type LivePayloadOf } from '@fitsync/live';
import { badInput } from './errors.js';

/** Reads the live message a request carries in its `extensions` (see `LIVE_MESSAGE_EXTENSION`). */
export function liveMessageFromBody(body: unknown): LiveMessage | undefined {
  const ext = (body as { extensions?: Record<string, unknown> } | undefined)?.extensions?.[LIVE_MESSAGE_EXTENSION];
  if (typeof ext !== 'object' || ext === null) return undefined;
  const { topic, payload } = ext as { topic?: unknown; payload?: unknown };
  if (typeof topic !== 'string' || typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  return { topic, payload: payload as LiveMessage['payload'] };
}

/**
 * The message a subscription field resolves: one of `topic`, the broker topic its
 * `@liveTopic` names. Subgraphs do not hold subscriptions themselves: the gateway does,
 * and sends each message of the topic back through the field (signed like every gateway
 * call), so the field's own access rules and the client's whole selection apply to it.
 */
export function liveMessage<T extends string>(ctx: { liveMessage?: LiveMessage }, topic: T): LivePayloadOf<T> {
  const msg = ctx.liveMessage;
  if (!msg || msg.topic !== topic) throw badInput(`Subscribe to ${topic} through the gateway (graphql-ws or SSE on /graphql)`);
  return msg.payload as LivePayloadOf<T>;
}

/**
 * `subscribe` for subgraph subscription fields: a subgraph is not a subscription server,
 * the gateway is (it resolves each message through the field's `resolve`).
 */
export function subscribeThroughGateway(): never {
  throw badInput('Subscriptions are served by the FitSync gateway (graphql-ws or SSE on /graphql)');
}
