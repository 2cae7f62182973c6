export * from './compose.js';
export * from './operations.js';
export * from './coordinates.js';
export * from './check.js';
export * from './history.js';
export * from './live.js';
export * from './publish.js';
export * from './register.js';
