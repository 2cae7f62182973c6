// Not a script: the one list of the subgraphs, by name, that the scripts here, the
// benchmark (bench/data.ts) and the end-to-end platform (tests/support/platform.ts) use.
import type { Gym } from '@fitsync/demo-data';
import { notificationsSubgraph, seedNotifications, startNotifications } from '@fitsync/notifications';
import { progressSubgraph, seedProgress, startProgress } from '@fitsync/progress';
import { scheduleSubgraph, seedSchedule, startSchedule } from '@fitsync/schedule';
import type { Queryable, RunningSubgraph, ServiceConfig, StartOptions, SubgraphDefinition, SubgraphName } from '@fitsync/service-kit';
import { seedTraining, startTraining, trainingSubgraph } from '@fitsync/training';
import { seedUsers, startUsers, usersSubgraph } from '@fitsync/users';

/** One subgraph as the tools that run them all use it. */
export interface SubgraphParts {
  /** Its definition (name, schema, migrations, resolvers, ...). */
  definition: SubgraphDefinition<unknown, unknown>;
  /** Opens its database and listens (`startSubgraph` with its definition). */
  start(config: ServiceConfig, opts?: StartOptions): Promise<RunningSubgraph>;
  /** Writes its slice of a generated gym into its database. */
  seed(db: Queryable, gym: Gym): Promise<void>;
}

/** Every subgraph, by name (iterate `SUBGRAPHS` for their order). A new subgraph is added here once. */
export const ALL_SUBGRAPHS: Record<SubgraphName, SubgraphParts> = {
  users: { definition: usersSubgraph, start: startUsers, seed: seedUsers },
  training: { definition: trainingSubgraph, start: startTraining, seed: seedTraining },
  schedule: { definition: scheduleSubgraph, start: startSchedule, seed: seedSchedule },
  progress: { definition: progressSubgraph, start: startProgress, seed: seedProgress },
  notifications: { definition: notificationsSubgraph, start: startNotifications, seed: seedNotifications },
};
