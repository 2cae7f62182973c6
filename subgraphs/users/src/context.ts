import type { SubgraphContext } from '@fitsync/service-kit';
import type { UsersServices } from './services.js';
import type { UsersStore } from './store.js';

export type Context = SubgraphContext<UsersStore, UsersServices>;
