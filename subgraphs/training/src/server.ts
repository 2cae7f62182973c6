import { createServiceClients, loadSchema, startSubgraph, type ServiceConfig, type StartOptions, type SubgraphDefinition } from '@fitsync/service-kit';
import { TrainingStore } from './store.js';
import { createResolvers } from './resolvers/index.js';
import { seedDemo } from './seed.js';

export const trainingSubgraph: SubgraphDefinition<TrainingStore> = {
  name: 'training',
  typeDefs: loadSchema(new URL('../schema.graphql', import.meta.url)),
  // Users checks who is a trainer or a client; progress computes adherence on completion.
  resolvers: (config) => createResolvers(createServiceClients(config, ['users', 'progress'])),
  migrationsDir: new URL('../migrations/', import.meta.url),
  createStore: (db) => new TrainingStore(db),
  seedDemo,
};

export const startTraining = (config: ServiceConfig, opts?: StartOptions) => startSubgraph(trainingSubgraph, config, opts);
export { seedTraining } from './seed.js';
