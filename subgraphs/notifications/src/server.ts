import { loadSchema, startSubgraph, type ServiceConfig, type StartOptions, type SubgraphDefinition } from '@fitsync/service-kit';
import { NotificationsStore } from './db.js';
import { resolvers } from './resolvers/index.js';
import { seedDemo } from './seed.js';

export const notificationsSubgraph: SubgraphDefinition<NotificationsStore> = {
  name: 'notifications',
  typeDefs: loadSchema(new URL('../schema.graphql', import.meta.url)),
  resolvers: () => resolvers,
  migrationsDir: new URL('../migrations/', import.meta.url),
  createStore: (db) => new NotificationsStore(db),
  seedDemo,
};

export const startNotifications = (config: ServiceConfig, opts?: StartOptions) => startSubgraph(notificationsSubgraph, config, opts);
export { seedNotifications } from './seed.js';
