export * from './compose.js';
export * from './operations.js';
export * from './coordinates.js';
export * from './check.js';
export * from './history.js';
export * from './publish.js';
export * from './register.js';
export * from './live-topics.js';
