import type { SubgraphContext } from '@fitsync/service-kit';
import type { ProgressStore } from './db.js';

export type Context = SubgraphContext<ProgressStore>;
