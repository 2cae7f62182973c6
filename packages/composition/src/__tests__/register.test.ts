import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apiSchemaOf } from '../compose.js';
import { checkManifest } from '../register.js';

const apiSchema = apiSchemaOf(readFileSync(new URL('../../../../supergraph.graphql', import.meta.url), 'utf8'));
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const entry = (body: string, extra: { name?: string; type?: string; id?: string } = {}) => ({ id: sha256(body), body, ...extra });
const manifest = (operations: unknown[]) => JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations });

describe('checkManifest (operations:register)', () => {
  it('accepts operations that validate against the served schema, fragments included, and gives the manifest to write', () => {
    const body = 'query Me { me { ...Who } } fragment Who on User { id name }';
    const check = checkManifest(manifest([entry(body, { name: 'Me', type: 'query' }), entry('subscription { unreadNotificationCountChanged }')]), apiSchema);
    expect(check.problems).toEqual([]);
    expect(check.operations).toBe(2);
    expect(JSON.parse(check.manifestJson!)).toEqual({
      format: 'apollo-persisted-query-manifest',
      version: 1,
      operations: [
        { id: sha256(body), name: 'Me', type: 'query', body },
        { id: sha256('subscription { unreadNotificationCountChanged }'), body: 'subscription { unreadNotificationCountChanged }' },
      ],
    });
  });

  it('refuses what is not a manifest, or holds nothing, with one message each', () => {
    expect(checkManifest('{ "format": ', apiSchema).problems).toEqual([expect.stringMatching(/^the manifest is not valid JSON: /)]);
    expect(checkManifest(JSON.stringify({ format: 'other', version: 1, operations: [] }), apiSchema).problems).toEqual([
      expect.stringMatching(/^the file is not an Apollo persisted-query manifest: format: /),
    ]);
    expect(checkManifest(manifest([{ id: 'x' }]), apiSchema).problems).toEqual([expect.stringMatching(/operations\.0\.body/)]);
    expect(checkManifest(manifest([]), apiSchema).problems).toEqual(['the manifest holds no operation']);
  });

  it('reports every bad operation at once, by name and id, and gives nothing to write', () => {
    const twice = entry('query Twice { me { id } }', { name: 'Twice' });
    const check = checkManifest(
      manifest([
        twice,
        twice,
        entry('query A { me { id } } query B { me { name } }'),
        entry('query Broken { me {', { name: 'Broken' }),
        entry('mutation Mark { markAllNotificationsRead }', { name: 'Mark', type: 'query' }),
        entry('query Deep($n: Int) { me { id } }', { name: 'Deep', id: 'A'.repeat(64) }),
      ]),
      apiSchema,
    );
    expect(check.manifestJson).toBeUndefined();
    expect(check.problems).toEqual([
      `operation Twice (id ${twice.id}): the id appears twice`,
      expect.stringMatching(/^operation #3 \(id [0-9a-f]{64}\): the body must hold exactly one operation \(it holds 2\); name the one it is for$/),
      expect.stringMatching(/^operation Broken \(id [0-9a-f]{64}\): the body does not parse: Syntax Error/),
      expect.stringMatching(/^operation Mark \(id [0-9a-f]{64}\): the manifest says query, the body is a mutation$/),
      `operation Deep (id ${'A'.repeat(64)}): the id is not the sha256 of the body (that is ${sha256('query Deep($n: Int) { me { id } }')})`,
      expect.stringMatching(/^operation Deep \(id A{64}\): does not validate against the served schema: Variable "\$n" is never used in operation "Deep"\.$/),
    ]);
  });
});
