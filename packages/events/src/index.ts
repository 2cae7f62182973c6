export * from './catalog.js';
export * from './envelope.js';
export * from './outbox.js';
export * from './live.js';
export * from './handlers.js';
export * from './live-redis.js';
