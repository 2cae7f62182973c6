import type { SubgraphContext } from '@fitsync/service-kit';
import type { ProgressStore } from './store.js';

export type Context = SubgraphContext<ProgressStore>;
