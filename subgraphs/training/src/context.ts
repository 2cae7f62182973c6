import type { SubgraphContext } from '@fitsync/service-kit';
import type { TrainingServices } from './services.js';
import type { TrainingStore } from './store.js';

export type Context = SubgraphContext<TrainingStore, TrainingServices>;
