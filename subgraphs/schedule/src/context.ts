import type { SubgraphContext } from '@fitsync/service-kit';
import type { ScheduleStore } from './db.js';

export type Context = SubgraphContext<ScheduleStore>;
