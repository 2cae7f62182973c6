import type { SubgraphContext } from '@fitsync/service-kit';
import type { UsersStore } from './db.js';

export type Context = SubgraphContext<UsersStore>;
