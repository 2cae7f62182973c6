import { sendGraphQLError } from '@fitsync/service-kit';
import type { Request, RequestHandler } from 'express';
import type { DocumentGate, DocumentRequest, Resolution } from './registry.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The trusted-documents rule for `/graphql` over HTTP (POST and GET, plain and SSE), in
 * front of graphql-sse and Apollo: a refused request is answered here with its code and
 * status, and one that names its document by id goes on as the full document, so Apollo
 * and graphql-sse (whose own persisted-query handling is off) run what the registry holds.
 */
export function trustedDocumentsHttp(gate: DocumentGate): RequestHandler {
  return (req, res, next) => {
    const transport = req.headers.accept?.includes('text/event-stream') ? 'sse' : 'http';
    if (req.method === 'POST') {
      const resolved = trustedPostBody(gate, req.body, transport);
      if (!resolved.ok) return sendGraphQLError(res, resolved.status, resolved.code, resolved.message);
      req.body = resolved.body;
      return next();
    }
    if (req.method === 'GET') {
      const search = new URLSearchParams(req.url.split('?')[1] ?? '');
      let extensions: unknown;
      try {
        extensions = search.has('extensions') ? JSON.parse(search.get('extensions')!) : undefined;
      } catch {
        // Apollo (or graphql-sse) refuses the parameter; no id can hide in it.
        extensions = undefined;
      }
      const resolution = gate.resolve({ query: search.get('query') ?? undefined, documentId: search.get('documentId') ?? undefined, extensions }, transport);
      if (!resolution.ok) return sendGraphQLError(res, resolution.status, resolution.code, resolution.message);
      if (resolution.query !== undefined) {
        search.delete('documentId');
        search.set('query', resolution.query);
        const rest = extensionsWithout(extensions, resolution).extensions;
        if (rest === undefined) search.delete('extensions');
        else search.set('extensions', JSON.stringify(rest));
        rewriteSearch(req, search);
      }
      return next();
    }
    next();
  };
}

/**
 * The rule for a POST body: the body to run (the registered document in place of an id), or the
 * refusal to answer with. Not an object (a batch, a string): passed on as it is, for Apollo and
 * graphql-sse to refuse with their own codes.
 */
export function trustedPostBody(
  gate: DocumentGate,
  body: unknown,
  transport: 'http' | 'sse',
): { ok: true; body: unknown } | { ok: false; status: number; code: string; message: string } {
  if (!isObject(body)) return { ok: true, body };
  const request = body as DocumentRequest & Record<string, unknown>;
  const resolution = gate.resolve(request, transport);
  if (!resolution.ok) return resolution;
  if (resolution.query === undefined) return { ok: true, body };
  const { documentId: _id, extensions: _extensions, ...rest } = request;
  return { ok: true, body: { ...rest, query: resolution.query, ...extensionsWithout(request.extensions, resolution) } };
}

/** The request's extensions without the persisted-query one this layer answered. */
function extensionsWithout(extensions: unknown, resolution: Resolution & { ok: true }): { extensions?: unknown } {
  if (!resolution.stripPersistedQuery || !isObject(extensions)) return extensions === undefined ? {} : { extensions };
  const { persistedQuery: _handled, ...rest } = extensions;
  return Object.keys(rest).length > 0 ? { extensions: rest } : {};
}

/** Apollo's Express integration and graphql-sse read GET parameters from `req.url`; the SSE checks from `req.originalUrl`. */
function rewriteSearch(req: Request, search: URLSearchParams) {
  const query = search.toString();
  req.url = `${req.url.split('?')[0]}?${query}`;
  req.originalUrl = `${req.originalUrl.split('?')[0]}?${query}`;
}
