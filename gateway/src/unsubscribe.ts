import { readFileSync } from 'node:fs';
import { sendGraphQLError } from '@fitsync/service-kit';
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
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'POST') {
      res.setHeader('allow', 'GET, POST');
      return sendGraphQLError(res, 405, 'BAD_REQUEST', 'The unsubscribe link answers GET and POST only');
    }
    const token = new URLSearchParams(req.url.split('?')[1] ?? '').get('token') ?? '';
    req.method = 'POST';
    req.headers['content-type'] = 'application/json';
    // Whatever the mail client posted (`List-Unsubscribe=One-Click`) says nothing more than the token.
    req.body = { query: UNSUBSCRIBE_DOCUMENT, variables: { token }, operationName: 'Unsubscribe' };
    next();
  };
}
