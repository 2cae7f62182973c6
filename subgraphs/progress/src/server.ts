import { startSubgraph, subgraphFiles, type ServiceConfig, type StartOptions, type SubgraphDefinition } from '@fitsync/service-kit';
import { progressHandlers } from './events/index.js';
import { resolvers } from './resolvers/index.js';
import { seedDemo } from './seed.js';
import { createProgressServices, type ProgressServices } from './services.js';
import { ProgressStore } from './store.js';

export const progressSubgraph: SubgraphDefinition<ProgressStore, ProgressServices> = {
  name: 'progress',
  ...subgraphFiles(import.meta.url),
  resolvers,
  services: createProgressServices,
  createStore: (db, ctx) => new ProgressStore(db, ctx.clock),
  seedDemo,
  consumes: progressHandlers,
};

export const startProgress = (config: ServiceConfig, opts?: StartOptions) => startSubgraph(progressSubgraph, config, opts);
export { seedProgress } from './seed.js';
