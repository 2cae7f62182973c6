import { createServiceClients, loadSchema, startSubgraph, type ServiceConfig, type StartOptions, type SubgraphDefinition } from '@fitsync/service-kit';
import { progressHandlers } from './events/index.js';
import { createResolvers } from './resolvers/index.js';
import { seedDemo } from './seed.js';
import { ProgressStore } from './store.js';

export const progressSubgraph: SubgraphDefinition<ProgressStore> = {
  name: 'progress',
  typeDefs: loadSchema(new URL('../schema.graphql', import.meta.url)),
  // Writes about a client check them with users (a CLIENT) and training (who trains them).
  resolvers: (config) => createResolvers(createServiceClients(config, ['users', 'training'])),
  migrationsDir: new URL('../migrations/', import.meta.url),
  createStore: (db, ctx) => new ProgressStore(db, ctx.clock),
  seedDemo,
  consumes: progressHandlers,
};

export const startProgress = (config: ServiceConfig, opts?: StartOptions) => startSubgraph(progressSubgraph, config, opts);
export { seedProgress } from './seed.js';
