import type { SubgraphContext } from '@fitsync/service-kit';
import type { ProgressServices } from './services.js';
import type { ProgressStore } from './store.js';

export type Context = SubgraphContext<ProgressStore, ProgressServices>;
