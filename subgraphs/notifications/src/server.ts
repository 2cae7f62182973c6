import { createServiceClients, startSubgraph, subgraphFiles, type ServiceConfig, type StartOptions, type SubgraphDefinition } from '@fitsync/service-kit';
import type { NotificationsServices } from './context.js';
import { notificationHandlers } from './events/index.js';
import { createMailSender, startMailSender } from './mail/sender.js';
import { createMailTransport } from './mail/transport.js';
import { resolvers } from './resolvers/index.js';
import { seedDemo } from './seed.js';
import { NotificationsStore } from './store.js';

export const notificationsSubgraph: SubgraphDefinition<NotificationsStore, NotificationsServices> = {
  name: 'notifications',
  ...subgraphFiles(import.meta.url),
  resolvers,
  services: (config) => ({ config }),
  createStore: (db) => new NotificationsStore(db),
  seedDemo,
  consumes: notificationHandlers,
  // Email: works off queued deliveries every MAIL_INTERVAL_MS, to SMTP_URL or to DATA_DIR/mail.
  background: ({ db, log, config, clock, metrics }) => {
    const transport = createMailTransport(config.mail, config.dataDir);
    const clients = createServiceClients(config, ['users', 'schedule', 'training'], log);
    const sender = createMailSender({ db, log, config, clock, clients, transport, metrics });
    const loop = startMailSender(sender, { log, intervalMs: config.mail.intervalMs, transport });
    return {
      async close() {
        await loop.close();
        for (const c of Object.values(clients)) c.close();
      },
    };
  },
};

export const startNotifications = (config: ServiceConfig, opts?: StartOptions) => startSubgraph(notificationsSubgraph, config, opts);
export { seedNotifications } from './seed.js';
export { mailFolder } from './mail/transport.js';
