import { loadSchema, startSubgraph, type ServiceConfig, type StartOptions, type SubgraphDefinition } from '@fitsync/service-kit';
import { UsersStore } from './store.js';
import { createResolvers } from './resolvers/index.js';
import { seedDemo } from './seed.js';

export const usersSubgraph: SubgraphDefinition<UsersStore> = {
  name: 'users',
  typeDefs: loadSchema(new URL('../schema.graphql', import.meta.url)),
  resolvers: (config) => createResolvers({ jwtSecret: config.jwtSecret, jwtTtl: config.jwtTtl }),
  migrationsDir: new URL('../migrations/', import.meta.url),
  createStore: (db) => new UsersStore(db),
  seedDemo,
};

export const startUsers = (config: ServiceConfig, opts?: StartOptions) => startSubgraph(usersSubgraph, config, opts);
export { seedUsers } from './seed.js';
