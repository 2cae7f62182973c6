import { createHash } from 'node:crypto';
import type { KnownOperation } from '@fitsync/composition';
import type { TrustedDocumentsMode } from '@fitsync/service-kit';
import { parse, print, type ParseOptions } from 'graphql';
import { LRUCache } from 'lru-cache';

/** A document's id: the sha256 hex of its text, as Apollo's persisted-query manifests and APQ compute it. */
export const documentId = (body: string) => createHash('sha256').update(body).digest('hex');

/** One registered document: a file of `operations/` (its whole text) or a manifest entry. */
export interface TrustedDocument {
  id: string;
  body: string;
  /** Operation name(s), for logs. */
  name: string;
  /** `operations/ClientDashboard.graphql`, `operations/trusted/web@1.4.0.json#<id>`. */
  source: string;
}

/** Full documents whose verdict (registered or not) is kept per registry. */
const VERDICTS = 2_000;

/**
 * The documents clients registered, by id. A full document sent as text is trusted when
 * its sha256 is a registered id, or when it prints the same as a registered one (it
 * differs only in whitespace, commas or comments: the same operation).
 */
export class TrustedRegistry {
  readonly #byId = new Map<string, TrustedDocument>();
  readonly #printed = new Set<string>();
  readonly #verdicts = new LRUCache<string, boolean>({ max: VERDICTS });
  /** sha256 over the sorted ids: the same documents give the same hash, wherever they came from. */
  readonly hash: string;

  /**
   * Throws naming the entry when a manifest's id is not the sha256 of its body: a client
   * sending that id would get another operation than the one it was built with.
   */
  constructor(
    operations: readonly KnownOperation[],
    private readonly parseOptions: ParseOptions = {},
  ) {
    for (const op of operations) {
      const id = documentId(op.body);
      if (op.id !== undefined && op.id.toLowerCase() !== id) {
        throw new Error(`${op.source} (${op.name}): the id is not the sha256 of the body (that is ${id})`);
      }
      this.#byId.set(id, { id, body: op.body, name: op.name, source: op.source });
      this.#printed.add(documentId(print(op.document)));
    }
    this.hash = documentId([...this.#byId.keys()].sort().join('\n'));
  }

  get size(): number {
    return this.#byId.size;
  }

  get(id: string): TrustedDocument | undefined {
    return this.#byId.get(id);
  }

  /** A full document a client sent: registered, or printing as a registered one? `id` is its sha256. */
  trusts(query: string, id = documentId(query)): boolean {
    if (this.#byId.has(id)) return true;
    let verdict = this.#verdicts.get(id);
    if (verdict === undefined) {
      try {
        verdict = this.#printed.has(documentId(print(parse(query, this.parseOptions))));
      } catch {
        verdict = false; // unparseable: certainly not registered (Apollo reports the syntax error in allow)
      }
      this.#verdicts.set(id, verdict);
    }
    return verdict;
  }
}

/** What a client asked for, from a POST body, GET parameters or a graphql-ws subscribe payload. */
export interface DocumentRequest {
  query?: unknown;
  /** GraphQL over HTTP's persisted documents: `sha256:<hex>` (or the bare hex). */
  documentId?: unknown;
  /** Apollo's `{ persistedQuery: { version: 1, sha256Hash } }`. */
  extensions?: unknown;
}

export type Transport = 'http' | 'sse' | 'ws';

export type Resolution =
  /**
   * Go on. `query` is the document to run (the registered one an id named, or the one sent);
   * undefined when the request named no document at all (Apollo or graphql-sse say what is missing).
   * `stripPersistedQuery`: the persisted-query extension was handled here and must not reach Apollo.
   */
  | { ok: true; query?: string; stripPersistedQuery: boolean }
  | { ok: false; status: number; code: 'BAD_REQUEST' | 'PERSISTED_QUERY_NOT_FOUND'; message: string };

export interface GateCounters {
  /** A full document outside the registry: served (allow) or refused (enforce). */
  untrusted(outcome: 'served' | 'refused', transport: Transport): void;
  /** A document id that named nothing. */
  unknownId(transport: Transport): void;
}

const HEX_ID = /^[0-9a-fA-F]{64}$/;
const DOCUMENT_ID = /^(?:sha256:)?([0-9a-fA-F]{64})$/;
/** Documents registered ad hoc by APQ clients (allow and off only), by total characters. */
const APQ_CACHE_CHARS = 8 << 20;

const refuse = (status: number, code: 'BAD_REQUEST' | 'PERSISTED_QUERY_NOT_FOUND', message: string): Resolution => ({ ok: false, status, code, message });
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Decides, before Apollo, graphql-sse or graphql-ws see a request, which document it runs:
 * - an id (`documentId`, or APQ's `extensions.persistedQuery.sha256Hash` with no query)
 *   resolves to the registered document; in `allow` and `off`, APQ ids also resolve to what
 *   APQ clients registered ad hoc. An unknown id is PERSISTED_QUERY_NOT_FOUND with 404;
 * - a full document is served in `enforce` only when it is registered (else
 *   PERSISTED_QUERY_NOT_FOUND with 400), in `allow` always (the unknown ones counted), in `off`
 *   always. A full document sent with an id must have that sha256 (BAD_REQUEST, 400).
 * So APQ's "send the hash, then hash and query" registers nothing in `enforce`: the second
 * request is a full document like any other.
 */
export class DocumentGate {
  readonly #apq = new LRUCache<string, string>({ maxSize: APQ_CACHE_CHARS, sizeCalculation: (body) => Math.max(1, body.length) });

  constructor(
    readonly mode: TrustedDocumentsMode,
    private readonly registry: () => TrustedRegistry,
    private readonly counters: GateCounters,
  ) {}

  resolve(req: DocumentRequest, transport: Transport): Resolution {
    const ids = requestedId(req);
    if ('refusal' in ids) return ids.refusal;
    const { id, apq } = ids;
    const query = typeof req.query === 'string' && req.query !== '' ? req.query : undefined;
    const strip = apq;

    if (query === undefined) {
      // No document: an id names it, or nothing does (and Apollo says what is missing).
      if (id === undefined) return { ok: true, stripPersistedQuery: false };
      const registered = this.registry().get(id)?.body ?? (apq && this.mode !== 'enforce' ? this.#apq.get(id) : undefined);
      if (registered !== undefined) return { ok: true, query: registered, stripPersistedQuery: strip };
      this.counters.unknownId(transport);
      return refuse(
        404,
        'PERSISTED_QUERY_NOT_FOUND',
        this.mode === 'enforce' || !apq
          ? `PersistedQueryNotFound: no trusted document has the id ${id}`
          : `PersistedQueryNotFound: no document has the id ${id}; send it again with the query`,
      );
    }

    const sent = documentId(query);
    if (id !== undefined && id !== sent) {
      return refuse(400, 'BAD_REQUEST', `The document does not match its id: the request names ${id}, the sha256 of the document sent is ${sent}`);
    }
    if (this.mode === 'off') {
      if (apq) this.#apq.set(sent, query);
      return { ok: true, query, stripPersistedQuery: strip };
    }
    if (this.registry().trusts(query, sent)) return { ok: true, query, stripPersistedQuery: strip };
    if (this.mode === 'enforce') {
      this.counters.untrusted('refused', transport);
      return refuse(
        400,
        'PERSISTED_QUERY_NOT_FOUND',
        'This document is not in the trusted registry: only registered operations are served. Send the id of a registered document (documentId or extensions.persistedQuery)',
      );
    }
    this.counters.untrusted('served', transport);
    if (apq) this.#apq.set(sent, query);
    return { ok: true, query, stripPersistedQuery: strip };
  }
}

/** The id a request names, lower-case, from `documentId` or APQ's extension (which must agree); or why it is malformed. */
function requestedId(req: DocumentRequest): { id?: string; apq: boolean } | { refusal: Resolution } {
  let fromDocumentId: string | undefined;
  if (req.documentId !== undefined && req.documentId !== null) {
    const match = typeof req.documentId === 'string' ? DOCUMENT_ID.exec(req.documentId) : null;
    if (!match) return { refusal: refuse(400, 'BAD_REQUEST', 'documentId must be "sha256:" followed by the 64 hex digits of the document\'s sha256') };
    fromDocumentId = match[1].toLowerCase();
  }
  const persisted = isObject(req.extensions) ? req.extensions.persistedQuery : undefined;
  if (persisted === undefined || persisted === null) return { id: fromDocumentId, apq: false };
  if (!isObject(persisted) || persisted.version !== 1) {
    return { refusal: refuse(400, 'BAD_REQUEST', 'extensions.persistedQuery must be { "version": 1, "sha256Hash": "<64 hex digits>" }') };
  }
  const hash = persisted.sha256Hash;
  if (typeof hash !== 'string' || !HEX_ID.test(hash)) {
    return { refusal: refuse(400, 'BAD_REQUEST', "extensions.persistedQuery.sha256Hash must be the 64 hex digits of the document's sha256") };
  }
  const id = hash.toLowerCase();
  if (fromDocumentId !== undefined && fromDocumentId !== id) {
    return { refusal: refuse(400, 'BAD_REQUEST', 'documentId and extensions.persistedQuery.sha256Hash name different documents') };
  }
  return { id, apq: true };
}
