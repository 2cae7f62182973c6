// What a client sees of an error nobody meant to raise: a code, a generic message and the
// correlation id to report, never the original message, a stack, SQL or a file path.
import { ApolloServer } from '@apollo/server';
import { gql } from 'graphql-tag';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { describe, expect, it } from 'vitest';
import { badInput, errorFormatter, unexpectedErrorLogging } from '../errors.js';
import { createLogger } from '../logger.js';

const typeDefs = gql`
  type Query {
    leaky: String
    careful(x: Int): String
    coded: String
  }
`;

const LEAK = 'invalid input syntax for type uuid: "x" at /work/main/subgraphs/users/src/db.ts:42';

describe('unexpected errors', () => {
  it('reach the client as a generic INTERNAL_SERVER_ERROR with the correlation id, and the log gets the details', async () => {
    const lines: { obj: any; msg: string }[] = [];
    const apollo = new ApolloServer<{ correlationId: string; log: any }>({
      schema: buildSubgraphSchema({
        typeDefs,
        resolvers: {
          Query: {
            leaky: () => {
              throw new Error(LEAK);
            },
            careful: () => {
              throw badInput('x must be positive', 'x');
            },
            coded: () => {
              throw Object.assign(new Error(LEAK), { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
            },
          },
        },
      }),
      formatError: errorFormatter(),
      plugins: [unexpectedErrorLogging({ error: (obj: unknown, msg: string) => void lines.push({ obj, msg }) } as never)],
      // Even when stack traces are switched on by mistake, none goes out.
      includeStacktraceInErrorResponses: true,
      logger: createLogger('users', 'silent'),
    });
    await apollo.start();
    const log = { error: (obj: unknown, msg: string) => void lines.push({ obj, msg }) };
    const res = await apollo.executeOperation({ query: '{ leaky careful coded }' }, { contextValue: { correlationId: 'corr-42', log } });
    await apollo.stop();
    const body = res.body.kind === 'single' ? res.body.singleResult : undefined;
    const byPath = Object.fromEntries(body!.errors!.map((e) => [String(e.path), e]));
    for (const field of ['leaky', 'coded']) {
      expect(byPath[field]).toEqual({
        message: 'Internal server error',
        locations: expect.any(Array),
        path: [field],
        extensions: { code: 'INTERNAL_SERVER_ERROR', correlationId: 'corr-42' },
      });
    }
    expect(byPath.careful).toMatchObject({ message: 'x must be positive', extensions: { code: 'BAD_USER_INPUT', field: 'x' } });
    expect(byPath.careful.extensions).not.toHaveProperty('stacktrace');
    expect(JSON.stringify(body)).not.toMatch(/uuid|\/work\/|db\.ts|at Object/);
    // The log holds what the client did not get, with the correlation id to find it by.
    expect(lines.map((l) => [l.msg, l.obj.correlationId, String(l.obj.path), l.obj.err.message])).toEqual([
      ['unexpected error while resolving', 'corr-42', 'leaky', LEAK],
      ['unexpected error while resolving', 'corr-42', 'coded', LEAK],
    ]);
  });
});
