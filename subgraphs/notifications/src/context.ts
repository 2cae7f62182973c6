import type { SubgraphContext } from '@fitsync/service-kit';
import type { NotificationsStore } from './db.js';

export type Context = SubgraphContext<NotificationsStore>;
