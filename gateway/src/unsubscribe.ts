import { readFileSync } from 'node:fs';
import type { RequestHandler } from 'express';

/** operations/Unsubscribe.graphql, as registered among the trusted documents. */
export const UNSUBSCRIBE_DOCUMENT = readFileSync(new URL('../../operations/Unsubscribe.graphql', import.meta.url), 'utf8');

/**
 * `GET /unsubscribe?token=...` (the link in every email) and `POST` to the same URL (the
 * one-click `List-Unsubscribe-Post` of RFC 8058, which mail clients send): the request
 * becomes the registered `Unsubscribe` mutation with the token as its variable, and goes on
 * through the handlers of `/graphql` (trusted documents, rate limits, Apollo), so the answer
 * is the mutation's GraphQL JSON, a refusal a coded error. The token alone authorizes it: no
 * sign-in needed.
 */
export function unsubscribeLink(): RequestHandler {
  return (req, _res, next) => {
    const method = req.method;
    const token = new URLSearchParams(req.url.split('?')[1] ?? '').get('token') ?? '';
    if (method !== 'GET' && method !== 'POST') {
      // Apollo answers other methods with its own 405 JSON.
      return next();
    }
    req.method = 'POST';
    req.headers['content-type'] = 'application/json';
    // Whatever the mail client posted (`List-Unsubscribe=One-Click`) says nothing more than the token.
    req.body = { query: UNSUBSCRIBE_DOCUMENT, variables: { token }, operationName: 'Unsubscribe' };
    next();
  };
}
