// The fuzz suite's own parts, without a platform: the oracle sees each kind of bad answer
// (so a clean run means something), and the generator replays from its seed and builds
// documents that are mostly valid against the API schema (so they reach the resolvers).
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { generateOperation, literal, NonFinite, toJson, type Pools } from './support/fuzz/documents.js';
import { answerProblems, type Answer } from './support/fuzz/oracle.js';

const json = (status: number, body: unknown): Answer => ({ status, contentType: 'application/json; charset=utf-8', text: JSON.stringify(body), json: body });
const kinds = (a: Answer) => answerProblems(a).map((f) => f.kind);

describe('the fuzz oracle', () => {
  it('passes a coded error answer and a data answer', () => {
    expect(kinds(json(400, { errors: [{ message: 'Syntax Error: Expected Name', extensions: { code: 'GRAPHQL_PARSE_FAILED' } }] }))).toEqual([]);
    expect(kinds(json(200, { data: { me: null }, errors: [{ message: 'Booking x not found', extensions: { code: 'NOT_FOUND' } }] }))).toEqual([]);
    expect(kinds(json(200, { data: { me: { id: '1' } } }))).toEqual([]);
  });

  it.each<[string, Answer, string]>([
    ['a 500', json(500, { errors: [{ message: 'x', extensions: { code: 'BAD_REQUEST' } }] }), 'HTTP 500'],
    ['an uncoded error', json(400, { errors: [{ message: 'x' }] }), 'uncoded error'],
    ['a code outside DESIGN.md and Apollo', json(400, { errors: [{ message: 'x', extensions: { code: 'OOPS' } }] }), 'unknown code OOPS'],
    [
      'an internal error',
      json(200, { data: null, errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }),
      'INTERNAL_SERVER_ERROR',
    ],
    ['an error status without errors', json(400, { data: null }), 'error status without errors'],
    [
      "Express's HTML page",
      {
        status: 400,
        contentType: 'text/html',
        text: '<pre>SyntaxError: Unexpected end<br> &nbsp; &nbsp;at parse (/work/main/node_modules/body-parser/lib/types/json.js:92:19)</pre>',
      },
      'not GraphQL JSON',
    ],
    [
      'a stack trace',
      json(400, { errors: [{ message: 'x\n    at Object.<anonymous> (file:///srv/a.js:1:1)', extensions: { code: 'BAD_REQUEST' } }] }),
      'leak: stack trace',
    ],
    [
      'an absolute path',
      json(400, { errors: [{ message: 'cannot open /work/main/.data/users', extensions: { code: 'BAD_REQUEST' } }] }),
      'leak: absolute path',
    ],
    [
      'a database message',
      json(200, { errors: [{ message: 'invalid input syntax for type uuid: "x"', extensions: { code: 'BAD_USER_INPUT' } }] }),
      'leak: database message',
    ],
    [
      'an internal address',
      json(200, { errors: [{ message: 'request to http://127.0.0.1:41234/graphql failed', extensions: { code: 'SERVICE_UNAVAILABLE' } }] }),
      'leak: internal address',
    ],
  ])('flags %s', (_, answer, kind) => {
    expect(kinds(answer)).toContain(kind);
  });
});

describe('the document generator', () => {
  const schema = buildSchema(readFileSync(new URL('../api-schema.graphql', import.meta.url), 'utf8'));
  const pools: Pools = { ids: ['00000000-0000-4000-8000-000000000001'], dates: ['2027-01-31'], emails: ['client@fitsync.test'], entityTypes: [] };
  const sample = (seed: number, n: number) => fc.sample(fc.gen(), { seed, numRuns: n }).map((g) => generateOperation(g, schema, pools, { breakRate: 0 }));

  it('replays the same requests from the same seed', () => {
    // Compared as the JSON the fuzz test sends: a generated variable can nest thousands of levels
    // deep, past what a recursive deep-equal can walk on a worker thread's stack (it overflowed in CI).
    const written = (seed: number) => toJson(sample(seed, 20));
    expect(written(7)).toBe(written(7));
    expect(written(7)).not.toBe(written(8));
  });

  it('builds documents that are mostly valid, so most cases reach the resolvers', () => {
    const ops = sample(11, 200);
    const valid = ops.filter((op) => {
      try {
        return validate(schema, parse(op.query)).length === 0;
      } catch {
        return false;
      }
    });
    expect(valid.length).toBeGreaterThan(ops.length / 2);
    expect(new Set(ops.map((o) => o.kind))).toEqual(new Set(['query', 'mutation', 'subscription']));
  });

  it('writes numbers JSON cannot carry as 1e999, and deep values without recursing per level', () => {
    expect(toJson({ a: new NonFinite(false), b: [new NonFinite(true)] })).toBe('{"a":1e999,"b":[-1e999]}');
    expect(JSON.parse(toJson({ a: new NonFinite(false) }))).toEqual({ a: Infinity });
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(toJson(deep)).toHaveLength(200_001);
    expect(literal(deep)).toHaveLength(200_001);
  });
});
