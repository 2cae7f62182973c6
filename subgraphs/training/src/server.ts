import { startSubgraph, subgraphFiles, type ServiceConfig, type StartOptions, type SubgraphDefinition } from '@fitsync/service-kit';
import { resolvers } from './resolvers/index.js';
import { seedDemo } from './seed.js';
import { createTrainingServices, type TrainingServices } from './services.js';
import { TrainingStore } from './store.js';

export const trainingSubgraph: SubgraphDefinition<TrainingStore, TrainingServices> = {
  name: 'training',
  ...subgraphFiles(import.meta.url),
  resolvers,
  services: createTrainingServices,
  createStore: (db) => new TrainingStore(db),
  seedDemo,
};

export const startTraining = (config: ServiceConfig, opts?: StartOptions) => startSubgraph(trainingSubgraph, config, opts);
export { seedTraining } from './seed.js';
