import { startSubgraph, subgraphFiles, type ServiceConfig, type StartOptions, type SubgraphDefinition } from '@fitsync/service-kit';
import { resolvers } from './resolvers/index.js';
import { seedDemo } from './seed.js';
import { createUsersServices, type UsersServices } from './services.js';
import { UsersStore } from './store.js';

export const usersSubgraph: SubgraphDefinition<UsersStore, UsersServices> = {
  name: 'users',
  ...subgraphFiles(import.meta.url),
  resolvers,
  // Login and register sign tokens with the configured secret and lifetime.
  services: createUsersServices,
  createStore: (db) => new UsersStore(db),
  seedDemo,
};

export const startUsers = (config: ServiceConfig, opts?: StartOptions) => startSubgraph(usersSubgraph, config, opts);
export { seedUsers } from './seed.js';
export { AdminRefused, adminInput, createAdmin } from './admin.js';
