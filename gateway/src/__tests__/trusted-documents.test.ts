import { manifestOperations } from '@fitsync/composition';
import type { TrustedDocumentsMode } from '@fitsync/service-kit';
import { describe, expect, it } from 'vitest';
import { DocumentGate, TrustedRegistry, documentId, type GateCounters, type Transport } from '../trusted/registry.js';

const ME = 'query Me { me { id name } }';
const UNREAD = 'subscription Unread { unreadNotificationCountChanged }';
const OTHER = '{ users(first: 100) { edges { node { email } } } }';
const manifest = (ops: { id?: string; name: string; type?: string; body: string }[]) =>
  JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: ops.map((o) => ({ id: o.id ?? documentId(o.body), ...o })) });

const registry = new TrustedRegistry(
  manifestOperations(
    manifest([
      { name: 'Me', type: 'query', body: ME },
      { name: 'Unread', type: 'subscription', body: UNREAD },
    ]),
    'operations/trusted/web.json',
  ),
);

function gate(mode: TrustedDocumentsMode) {
  const counted: string[] = [];
  const counters: GateCounters = {
    untrusted: (outcome, transport) => counted.push(`untrusted ${outcome} ${transport}`),
    unknownId: (transport) => counted.push(`unknown id ${transport}`),
  };
  return { gate: new DocumentGate(mode, () => registry, counters), counted };
}
const apq = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });
const http: Transport = 'http';

describe('the trusted registry', () => {
  it('knows each document by the sha256 of its text, and a full document that prints the same as a registered one', () => {
    expect(registry.size).toBe(2);
    expect(registry.get(documentId(ME))?.body).toBe(ME);
    expect(registry.trusts(ME)).toBe(true);
    expect(registry.trusts('# the client reformatted it\nquery Me {\n  me {\n    id,\n    name\n  }\n}\n')).toBe(true);
    expect(registry.trusts('query Me { me { id name email } }')).toBe(false);
    expect(registry.trusts('query Me { me { id name }')).toBe(false); // does not parse
  });

  it('refuses a manifest entry whose id is not the sha256 of its body, naming it', () => {
    const ops = manifestOperations(manifest([{ id: 'a'.repeat(64), name: 'Me', body: ME }]), 'operations/trusted/web.json');
    expect(() => new TrustedRegistry(ops)).toThrow(
      `operations/trusted/web.json#${'a'.repeat(64)} (Me): the id is not the sha256 of the body (that is ${documentId(ME)})`,
    );
  });

  it('gives the same hash to the same documents, whatever their order or source', () => {
    const reordered = new TrustedRegistry(
      manifestOperations(
        manifest([
          { name: 'Unread', body: UNREAD },
          { name: 'Me', body: ME },
        ]),
        'redis#web',
      ),
    );
    expect(reordered.hash).toBe(registry.hash);
    expect(new TrustedRegistry([]).hash).not.toBe(registry.hash);
  });
});

describe('which document a request runs', () => {
  describe.each(['off', 'allow', 'enforce'] as const)('in every mode (%s)', (mode) => {
    it('resolves a registered id in the GraphQL-over-HTTP form, with or without "sha256:", in any case, and in APQ form', () => {
      const { gate: g } = gate(mode);
      const id = documentId(ME);
      expect(g.resolve({ documentId: `sha256:${id}` }, http)).toEqual({ ok: true, query: ME, stripPersistedQuery: false });
      expect(g.resolve({ documentId: id.toUpperCase() }, http)).toEqual({ ok: true, query: ME, stripPersistedQuery: false });
      expect(g.resolve({ extensions: apq(id) }, 'ws')).toEqual({ ok: true, query: ME, stripPersistedQuery: true });
      expect(g.resolve({ query: '', documentId: `sha256:${id}` }, 'ws')).toMatchObject({ ok: true, query: ME });
    });

    it('answers an unknown id with PERSISTED_QUERY_NOT_FOUND and 404, and counts it', () => {
      const { gate: g, counted } = gate(mode);
      const unknown = 'f'.repeat(64);
      expect(g.resolve({ documentId: `sha256:${unknown}` }, http)).toMatchObject({ ok: false, status: 404, code: 'PERSISTED_QUERY_NOT_FOUND' });
      expect(g.resolve({ extensions: apq(unknown) }, 'sse')).toMatchObject({ ok: false, status: 404, code: 'PERSISTED_QUERY_NOT_FOUND' });
      expect(counted).toEqual(['unknown id http', 'unknown id sse']);
    });

    it('refuses malformed ids, and two ids that disagree, with BAD_REQUEST and 400', () => {
      const { gate: g } = gate(mode);
      for (const bad of ['', 'sha256:', 'sha256:abc', `md5:${'a'.repeat(64)}`, `sha256:${'g'.repeat(64)}`, 42, { id: 'x' }]) {
        expect(g.resolve({ documentId: bad }, http), JSON.stringify(bad)).toMatchObject({ ok: false, status: 400, code: 'BAD_REQUEST' });
      }
      for (const bad of [{ version: 1, sha256Hash: 'abc' }, { version: 2, sha256Hash: documentId(ME) }, { version: 1 }, 'x']) {
        expect(g.resolve({ extensions: { persistedQuery: bad } }, http), JSON.stringify(bad)).toMatchObject({ ok: false, status: 400, code: 'BAD_REQUEST' });
      }
      const twoIds = g.resolve({ documentId: documentId(ME), extensions: apq(documentId(UNREAD)) }, http);
      expect(twoIds).toMatchObject({ ok: false, status: 400, message: 'documentId and extensions.persistedQuery.sha256Hash name different documents' });
    });

    it('refuses a document sent with an id that is not its sha256, with BAD_REQUEST and 400 naming both', () => {
      const { gate: g } = gate(mode);
      const refusal = g.resolve({ query: OTHER, extensions: apq(documentId(ME)) }, http);
      expect(refusal).toEqual({
        ok: false,
        status: 400,
        code: 'BAD_REQUEST',
        message: `The document does not match its id: the request names ${documentId(ME)}, the sha256 of the document sent is ${documentId(OTHER)}`,
      });
      expect(g.resolve({ query: OTHER, documentId: `sha256:${documentId(ME)}` }, http)).toMatchObject({ ok: false, status: 400, code: 'BAD_REQUEST' });
    });

    it('serves a registered full document, and leaves a request with no document at all to Apollo', () => {
      const { gate: g, counted } = gate(mode);
      expect(g.resolve({ query: ME }, http)).toEqual({ ok: true, query: ME, stripPersistedQuery: false });
      expect(g.resolve({ query: ME, extensions: apq(documentId(ME)) }, http)).toEqual({ ok: true, query: ME, stripPersistedQuery: true });
      expect(g.resolve({}, http)).toEqual({ ok: true, stripPersistedQuery: false });
      expect(counted).toEqual([]);
    });
  });

  it('enforce: a full document outside the registry is refused with PERSISTED_QUERY_NOT_FOUND and 400, and counted', () => {
    const { gate: g, counted } = gate('enforce');
    expect(g.resolve({ query: OTHER }, http)).toMatchObject({
      ok: false,
      status: 400,
      code: 'PERSISTED_QUERY_NOT_FOUND',
      message: /not in the trusted registry/,
    });
    expect(g.resolve({ query: 'subscription { notificationAdded { id } }' }, 'ws')).toMatchObject({ ok: false, status: 400 });
    expect(counted).toEqual(['untrusted refused http', 'untrusted refused ws']);
  });

  it('enforce: APQ registration is no back door (hash then hash and query leaves the id unknown)', () => {
    const { gate: g } = gate('enforce');
    const id = documentId(OTHER);
    expect(g.resolve({ extensions: apq(id) }, http)).toMatchObject({ ok: false, status: 404 });
    expect(g.resolve({ query: OTHER, extensions: apq(id) }, http)).toMatchObject({ ok: false, status: 400, code: 'PERSISTED_QUERY_NOT_FOUND' });
    expect(g.resolve({ extensions: apq(id) }, http)).toMatchObject({ ok: false, status: 404 });
  });

  it('allow: a full document outside the registry is served and counted; APQ clients register theirs ad hoc', () => {
    const { gate: g, counted } = gate('allow');
    const id = documentId(OTHER);
    expect(g.resolve({ query: OTHER }, 'sse')).toEqual({ ok: true, query: OTHER, stripPersistedQuery: false });
    expect(g.resolve({ extensions: apq(id) }, http)).toMatchObject({ ok: false, status: 404, message: /send it again with the query/ });
    expect(g.resolve({ query: OTHER, extensions: apq(id) }, http)).toEqual({ ok: true, query: OTHER, stripPersistedQuery: true });
    expect(g.resolve({ extensions: apq(id) }, http)).toEqual({ ok: true, query: OTHER, stripPersistedQuery: true });
    // The GraphQL-over-HTTP form names registered documents only: APQ's ad-hoc ones are APQ's.
    expect(g.resolve({ documentId: `sha256:${id}` }, http)).toMatchObject({ ok: false, status: 404 });
    expect(counted).toEqual(['untrusted served sse', 'unknown id http', 'untrusted served http', 'unknown id http']);
  });

  it('off: any document is served and nothing is counted but unknown ids', () => {
    const { gate: g, counted } = gate('off');
    expect(g.resolve({ query: OTHER }, http)).toEqual({ ok: true, query: OTHER, stripPersistedQuery: false });
    expect(counted).toEqual([]);
  });
});
