export * from './catalog.js';
export * from './envelope.js';
export * from './outbox.js';
