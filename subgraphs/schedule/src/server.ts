import { startSubgraph, subgraphFiles, type ServiceConfig, type StartOptions, type SubgraphDefinition } from '@fitsync/service-kit';
import { scheduleHandlers } from './events/index.js';
import { startReminderScheduler } from './events/reminders.js';
import { resolvers } from './resolvers/index.js';
import { seedDemo } from './seed.js';
import { createScheduleServices, type ScheduleServices } from './services.js';
import { ScheduleStore } from './store.js';

export const scheduleSubgraph: SubgraphDefinition<ScheduleStore, ScheduleServices> = {
  name: 'schedule',
  ...subgraphFiles(import.meta.url),
  resolvers,
  services: createScheduleServices,
  createStore: (db, ctx) => new ScheduleStore(db, ctx.clock),
  seedDemo,
  // Its own booking.* events, once committed, become bookingChanged messages for live subscribers.
  consumes: scheduleHandlers,
  // booking.reminder: once per booking, 24 hours before it starts.
  background: ({ db, log, config, clock }) => startReminderScheduler({ db, log, intervalMs: config.reminderIntervalMs, clock }),
};

export const startSchedule = (config: ServiceConfig, opts?: StartOptions) => startSubgraph(scheduleSubgraph, config, opts);
export { seedSchedule } from './seed.js';
