import type { SubgraphContext } from '@fitsync/service-kit';
import type { NotificationsStore } from './store.js';

export type Context = SubgraphContext<NotificationsStore>;
