import { loadSchema, startSubgraph, type ServiceConfig, type StartOptions, type SubgraphDefinition } from '@fitsync/service-kit';
import { NotificationsStore } from './db.js';
import { notificationHandlers } from './events/index.js';
import { resolvers } from './resolvers/index.js';
import { seedDemo } from './seed.js';

export const notificationsSubgraph: SubgraphDefinition<NotificationsStore> = {
  name: 'notifications',
  typeDefs: loadSchema(new URL('../schema.graphql', import.meta.url)),
  resolvers: () => resolvers,
  migrationsDir: new URL('../migrations/', import.meta.url),
  createStore: (db, ctx) => new NotificationsStore(db, ctx.clock),
  seedDemo,
  consumes: notificationHandlers,
};

export const startNotifications = (config: ServiceConfig, opts?: StartOptions) => startSubgraph(notificationsSubgraph, config, opts);
export { seedNotifications } from './seed.js';
export { notificationHandlers } from './events/index.js';
