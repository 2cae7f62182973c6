// The net under the input checks: a mutation whose transaction returns a value its own
// type cannot serve (a computed end date in year 10001, an enum value the schema does not
// have) is rolled back and answered BAD_USER_INPUT naming the field, so no row is left
// that every later read would fail on. Resolvers that take the context are not run.
import { gql } from 'graphql-tag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DateScalar, startSubgraph, type BaseContext, type Database, type RunningSubgraph, type SubgraphDefinition } from '../index.js';
import { callSubgraph, storageBackends, testConfig } from '../testing.js';

const typeDefs = gql`
  scalar Date
  enum Level {
    EASY
    HARD
  }
  type Plan {
    id: ID!
    startDate: Date!
    endDate: Date!
    level: Level!
    weeks: Int!
    "Takes the context: never run by the check."
    reads: Int
  }
  type Query {
    plans: Int!
  }
  type Mutation {
    plan(startDate: String!, weeks: Int!, level: String!): Plan!
    plans(count: Int!): [Plan!]!
  }
`;

type Ctx = BaseContext & { store: { db: Database } };
interface PlanRow {
  id: number;
  start_date: string;
  weeks: number;
  level: string;
}
let contextResolverRuns = 0;

const addWeeks = (day: string, weeks: number) => {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + weeks * 7);
  return d.toISOString().slice(0, 10);
};

const definition: SubgraphDefinition<{ db: Database }> = {
  name: 'training',
  typeDefs,
  migrationsDir: new URL('./fixtures/servable-migrations/', import.meta.url),
  createStore: (db) => ({ db }),
  resolvers: {
    Date: DateScalar,
    Query: { plans: async (_: unknown, __: unknown, ctx: Ctx) => (await ctx.store.db.query('SELECT id FROM plans')).length },
    Plan: {
      startDate: (p: PlanRow) => p.start_date,
      // Deliberately unchecked: the point is what happens when a computed value goes wrong.
      endDate: (p: PlanRow) => addWeeks(p.start_date, p.weeks),
      reads: (_: PlanRow, __: unknown, ctx: Ctx) => {
        contextResolverRuns += 1;
        return ctx.store.db.query('SELECT 1').then((r) => r.length);
      },
    },
    Mutation: {
      plan: (_: unknown, args: { startDate: string; weeks: number; level: string }, ctx: Ctx) =>
        ctx.store.db.transaction(async (tx) => {
          const [row] = await tx.query<PlanRow>('INSERT INTO plans (start_date, weeks, level) VALUES ($1, $2, $3) RETURNING id, start_date, weeks, level', [
            args.startDate,
            args.weeks,
            args.level,
          ]);
          return row;
        }),
      plans: (_: unknown, { count }: { count: number }, ctx: Ctx) =>
        ctx.store.db.transaction(async (tx) => {
          const rows: PlanRow[] = [];
          for (let i = 0; i < count; i++) {
            const [row] = await tx.query<PlanRow>(
              'INSERT INTO plans (start_date, weeks, level) VALUES ($1, $2, $3) RETURNING id, start_date, weeks, level',
              // the last one runs past year 9999
              [i === count - 1 ? '9999-06-01' : '2027-01-04', 52, 'EASY'],
            );
            rows.push(row);
          }
          return rows;
        }),
    },
  },
};

const PLAN = 'mutation($s: String!, $w: Int!, $l: String!) { plan(startDate: $s, weeks: $w, level: $l) { id startDate endDate level reads } }';

describe.each(storageBackends())('writes a read can serve, on %s', (backend) => {
  let running: RunningSubgraph;
  beforeAll(async () => {
    running = await startSubgraph(definition, testConfig('training', backend));
  });
  afterAll(async () => {
    await running?.close();
  });
  const count = async () => (await running.db.query<{ n: number }>('SELECT count(*)::int AS n FROM plans'))[0].n;

  it('commits a row every field of which serves, and runs no resolver that takes the context before commit', async () => {
    contextResolverRuns = 0;
    const before = await count();
    const { status, body } = await callSubgraph(running.url, PLAN, { s: '2027-01-04', w: 12, l: 'HARD' });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data?.plan).toMatchObject({ startDate: '2027-01-04', endDate: '2027-03-29', level: 'HARD', reads: 1 });
    // once, for the answer: the check before commit left it alone
    expect(contextResolverRuns).toBe(1);
    expect(await count()).toBe(before + 1);
  });

  it.each([
    ['an end date past year 9999', { s: '9999-06-01', w: 52, l: 'EASY' }, 'endDate', /Plan\.endDate/],
    ['an enum value the schema does not have', { s: '2027-01-04', w: 1, l: 'EXTREME' }, 'level', /Plan\.level/],
  ])('rolls back %s and answers BAD_USER_INPUT naming the field', async (_, variables, field, message) => {
    const before = await count();
    const { status, body } = await callSubgraph(running.url, PLAN, variables);
    expect(status).toBe(200);
    expect(body.data ?? null).toBeNull();
    expect(body.errors).toHaveLength(1);
    expect(body.errors![0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field } });
    expect(body.errors![0].message).toMatch(message);
    expect(await count()).toBe(before);
    // and every later read still serves
    expect((await callSubgraph(running.url, '{ plans }')).body).toEqual({ data: { plans: before } });
  });

  it('checks every item of a list, and writes none of them when one fails', async () => {
    const before = await count();
    const { body } = await callSubgraph(running.url, 'mutation { plans(count: 3) { id } }');
    expect(body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'endDate' } });
    expect(await count()).toBe(before);
  });
});
