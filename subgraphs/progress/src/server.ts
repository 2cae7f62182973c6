import { loadSchema, startSubgraph, type ServiceConfig, type StartOptions, type SubgraphDefinition } from '@fitsync/service-kit';
import { ProgressStore } from './db.js';
import { progressHandlers } from './events/index.js';
import { resolvers } from './resolvers/index.js';
import { seedDemo } from './seed.js';

export const progressSubgraph: SubgraphDefinition<ProgressStore> = {
  name: 'progress',
  typeDefs: loadSchema(new URL('../schema.graphql', import.meta.url)),
  resolvers: () => resolvers,
  migrationsDir: new URL('../migrations/', import.meta.url),
  createStore: (db) => new ProgressStore(db),
  seedDemo,
  consumes: progressHandlers,
};

export const startProgress = (config: ServiceConfig, opts?: StartOptions) => startSubgraph(progressSubgraph, config, opts);
export { seedProgress } from './seed.js';
export { progressHandlers } from './events/index.js';
