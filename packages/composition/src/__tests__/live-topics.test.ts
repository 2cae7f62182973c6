import { describe, expect, it } from 'vitest';
import { compose, formatProblems } from '../compose.js';
import { liveDeclarations, liveRecipients } from '../live-topics.js';

const LINKED = `
  extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@composeDirective"])
    @link(url: "https://fitsync.dev/live/v0.1", import: ["@liveTopic"])
    @composeDirective(name: "@liveTopic")
  directive @liveTopic(name: String!, recipients: [String!]!) on FIELD_DEFINITION
`;

const subgraph = (name: string, sdl: string) => ({ name, url: `http://${name}.test/graphql`, sdl });

describe('@liveTopic', () => {
  it("survives composition into the supergraph, where the gateway reads each field's topic and recipients", () => {
    const result = compose([
      subgraph('a', `${LINKED} type Query { a: Int } type Subscription { pinged: Int! @liveTopic(name: "pings", recipients: ["user_id"]) }`),
      subgraph(
        'b',
        `${LINKED} type Query { b: Int } type Subscription { announced: String! @liveTopic(name: "announcements", recipients: ["audience", "by.id"]) }`,
      ),
    ]);
    if (!result.ok) throw new Error(formatProblems(result.problems));
    expect(result.supergraphSdl).toContain('@link(url: "https://fitsync.dev/live/v0.1", import: ["@liveTopic"])');
    const { routes, problems } = liveDeclarations(result.supergraphSdl);
    expect(problems).toEqual([]);
    expect([...routes.values()]).toEqual([
      { field: 'pinged', topic: 'pings', recipients: ['user_id'] },
      { field: 'announced', topic: 'announcements', recipients: ['audience', 'by.id'] },
    ]);
  });

  it('takes a Subscription field without one for an upstream field, where the config says its subgraph serves subscriptions', () => {
    const sdl = `${LINKED}\ntype Query { a: Int }\ntype Subscription {\n  pinged: Int! @liveTopic(name: "pings", recipients: ["user_id"])\n  goalReached: Int!\n}\n`;
    const b = subgraph(
      'b',
      'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"]) type Query { b: Int } type Subscription { announced: String! }',
    );
    const result = compose([
      { ...subgraph('progress', sdl), subscriptions: 'ws' },
      { ...b, subscriptions: 'sse' },
    ]);
    if (!result.ok) throw new Error(formatProblems(result.problems));
    const { routes, upstream, problems } = liveDeclarations(result.supergraphSdl);
    expect(problems).toEqual([]);
    expect([...routes.keys()]).toEqual(['pinged']);
    expect(upstream.sort()).toEqual(['announced', 'goalReached']);
  });

  it('refuses a Subscription field that nothing feeds: no @liveTopic, and its subgraph does not say it serves subscriptions', () => {
    const sdl = `${LINKED}\ntype Query { a: Int }\ntype Subscription {\n  pinged: Int! @liveTopic(name: "pings", recipients: ["user_id"])\n  goalReached: Int!\n}\n`;
    const line = sdl.split('\n').indexOf('  goalReached: Int!') + 1;
    const served = subgraph(
      'b',
      'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"]) type Query { b: Int } type Subscription { announced: String! }',
    );
    // Only progress's undeclared field is refused: its declared one is fed by the broker, and b serves its own.
    const result = compose([subgraph('progress', sdl), { ...served, subscriptions: 'ws' }]);
    expect(result).toEqual({
      ok: false,
      problems: [
        {
          subgraph: 'progress',
          code: 'LIVE_SUBSCRIPTION_UNSERVED',
          message: expect.stringContaining('Subscription.goalReached: nothing feeds it: it has no @liveTopic(name:, recipients:)'),
          locations: [{ subgraph: 'progress', line, column: 3 }],
        },
      ],
    });
    if (result.ok) return;
    expect(result.problems[0].message).toContain('add `subscriptions: ws` (or `sse`) under progress in supergraph.yaml');
    // A graph whose Subscription fields are all declared needs no such entry.
    expect(compose([subgraph('progress', sdl.replace('  goalReached: Int!\n', ''))]).ok).toBe(true);
  });

  it('refuses a declaration composition would drop (no @composeDirective), naming its subgraph and line, and one that names no recipient', () => {
    const uncomposed = LINKED.replace('@composeDirective(name: "@liveTopic")', '');
    const sdl = `${uncomposed}\ntype Query { a: Int }\ntype Subscription {\n  pinged: Int! @liveTopic(name: "pings", recipients: ["user_id"])\n}\n`;
    const line = sdl.split('\n').indexOf('  pinged: Int! @liveTopic(name: "pings", recipients: ["user_id"])') + 1;
    const dropped = compose([subgraph('a', sdl)]);
    expect(dropped).toEqual({
      ok: false,
      problems: [
        {
          subgraph: 'a',
          code: 'LIVE_TOPIC_NOT_COMPOSED',
          message: expect.stringContaining('Subscription.pinged: its @liveTopic did not reach the supergraph'),
          locations: [{ subgraph: 'a', line, column: 3 }],
        },
      ],
    });

    const nobody = compose([subgraph('a', `${LINKED} type Query { a: Int } type Subscription { pinged: Int! @liveTopic(name: "pings", recipients: []) }`)]);
    expect(nobody.ok || nobody.problems.map((p) => [p.code, p.subgraph])).toEqual([['LIVE_TOPIC_INVALID', 'a']]);
  });

  it('leaves a graph without subscriptions alone', () => {
    const result = compose([subgraph('a', 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"]) type Query { a: Int }')]);
    expect(result.ok).toBe(true);
  });
});

describe('liveRecipients', () => {
  it('reads strings and lists of strings, nested fields, each user once', () => {
    const payload = { client_id: 'u1', trainer_id: 'u1', audience: ['u2', 'u3', 'u2'], by: { id: 'u4' } };
    expect(liveRecipients(['client_id', 'trainer_id', 'audience', 'by.id'], payload)).toEqual(['u1', 'u2', 'u3', 'u4']);
  });

  it('names nobody for missing fields and values that are not user ids', () => {
    expect(liveRecipients(['user_id', 'a.b', 'n', 'list'], { n: 7, list: [null, 3, ''], a: 'x' })).toEqual([]);
    expect(liveRecipients(['user_id'], null)).toEqual([]);
  });
});
