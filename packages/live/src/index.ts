export * from './topics.js';
export * from './bus.js';
export * from './in-process-bus.js';
export * from './redis-bus.js';
export * from './hub-bus.js';
export * from './choose-bus.js';
