// @fitsync/events: durable domain events between services (DESIGN.md section 4). Live
// messages for GraphQL subscriptions are @fitsync/live's.

// What a service writes: the channel catalog, the envelope, the transactional outbox.
export * from './catalog.js';
export * from './envelope.js';
export * from './outbox.js';
export * from './handlers.js';

// Delivery: stream backends, the consumer-group transport over them, and the one this process uses.
export * from './streams.js';
export * from './streams-memory.js';
export * from './streams-redis.js';
export type { DeadLetter } from './dead-letters.js';
export * from './stream-transport.js';
export * from './choose-transport.js';
export * from './ipc-hub.js';

// A service's event machinery: the outbox relay and the consumer with its inbox.
export * from './relay.js';
export * from './runtime.js';
export * from './metrics.js';

// Operations: `npm run events -- dead-letters ...`.
export * from './dead-letters-cli.js';
