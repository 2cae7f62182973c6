import type { SubgraphContext } from '@fitsync/service-kit';
import type { TrainingStore } from './db.js';

export type Context = SubgraphContext<TrainingStore>;
