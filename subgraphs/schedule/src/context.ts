import type { SubgraphContext } from '@fitsync/service-kit';
import type { ScheduleServices } from './services.js';
import type { ScheduleStore } from './store.js';

export type Context = SubgraphContext<ScheduleStore, ScheduleServices>;
