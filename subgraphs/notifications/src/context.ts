import type { ServiceConfig, SubgraphContext } from '@fitsync/service-kit';
import type { NotificationsStore } from './store.js';

/** What notifications builds once at start-up: its configuration (the unsubscribe links' secrets). */
export interface NotificationsServices {
  config: ServiceConfig;
}

export type Context = SubgraphContext<NotificationsStore, NotificationsServices>;
