import { startSubgraph, subgraphFiles, type ServiceConfig, type StartOptions, type SubgraphDefinition } from '@fitsync/service-kit';
import { notificationHandlers } from './events/index.js';
import { resolvers } from './resolvers/index.js';
import { seedDemo } from './seed.js';
import { NotificationsStore } from './store.js';

export const notificationsSubgraph: SubgraphDefinition<NotificationsStore> = {
  name: 'notifications',
  ...subgraphFiles(import.meta.url),
  resolvers,
  createStore: (db) => new NotificationsStore(db),
  seedDemo,
  consumes: notificationHandlers,
};

export const startNotifications = (config: ServiceConfig, opts?: StartOptions) => startSubgraph(notificationsSubgraph, config, opts);
export { seedNotifications } from './seed.js';
