import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { ErrorCode, sendGraphQLError, type Logger } from '@fitsync/service-kit';
import { GRAPHIQL_ASSET_BASE } from '../graphiql/assets.js';

/** The bundle `npm run graphiql:build` writes (gateway/graphiql/dist): index.html and assets/. */
export const GRAPHIQL_DIST = fileURLToPath(new URL('../graphiql/dist/', import.meta.url));

/**
 * What the GraphiQL page and its files may do: load from this origin only (scripts, styles,
 * fonts, Monaco's workers), talk to this origin only (HTTP and WebSocket on /graphql).
 * Inline styles: React and Monaco set `style` attributes. Nothing else, no framing.
 */
export const GRAPHIQL_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
].join('; ');

export interface GraphiQLRoutes {
  /** Serves the page on a GET of `path`, or (on `/graphql`) on a GET with no parameters that asks for HTML. */
  page: RequestHandler;
  /** The bundle's files under GRAPHIQL_ASSET_BASE. */
  assets: RequestHandler;
}

/** A browser's navigation: HTML preferred over JSON. A GraphQL client sends `application/json` or nothing. */
const wantsHtml = (req: Request) => req.accepts(['application/json', 'text/html']) === 'text/html';
const hasParameters = (req: Request) => req.originalUrl.includes('?');

/**
 * GraphiQL served from the gateway itself, from the bundle built at install time. Without
 * a bundle (not built yet) the page answers SERVICE_UNAVAILABLE saying how to build it.
 */
export function graphiqlRoutes(path: string, log: Logger, dist = GRAPHIQL_DIST): GraphiQLRoutes {
  let html: string | undefined;
  let warned = false;
  const page = (): string | undefined => {
    if (html !== undefined) return html;
    try {
      html = readFileSync(`${dist}index.html`, 'utf8');
    } catch {
      if (!warned) log.warn({ dist }, 'GraphiQL is not built: run npm run graphiql:build');
      warned = true;
    }
    return html;
  };
  const send = (res: Response) => {
    const body = page();
    if (body === undefined) {
      return sendGraphQLError(res, 503, ErrorCode.SERVICE_UNAVAILABLE, 'GraphiQL is not built on this server (npm run graphiql:build)');
    }
    res.setHeader('content-security-policy', GRAPHIQL_CSP);
    res.setHeader('cache-control', 'no-cache');
    res.type('html').send(body);
  };
  const files = express.static(`${dist}assets`, {
    index: false,
    fallthrough: true,
    // Vite names every file by its content hash.
    immutable: true,
    maxAge: '365d',
    setHeaders: (res) => res.setHeader('content-security-policy', GRAPHIQL_CSP),
  });
  return {
    page: (req, res, next) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') return next();
      if (path === '/graphql' && (req.path !== '/' || hasParameters(req) || !wantsHtml(req))) return next();
      send(res);
    },
    assets: files,
  };
}

/** Under this prefix (the bundle's `base`) the gateway serves GraphiQL's files. */
export const GRAPHIQL_ASSETS_PATH = `${GRAPHIQL_ASSET_BASE}assets`;

/**
 * `/graphql` on a GET with no parameters and GraphiQL not served there (production): a coded
 * GraphQL error saying what the endpoint takes, rather than Apollo's CSRF refusal.
 */
export function bareGetAnswer(graphiqlPath: string | undefined): RequestHandler {
  const where =
    graphiqlPath === '/graphql'
      ? 'Open it in a browser for GraphiQL'
      : graphiqlPath
        ? `GraphiQL is at ${graphiqlPath}`
        : 'GraphiQL is not served here (GRAPHIQL_PATH turns it on)';
  const message = `This is the GraphQL endpoint: send an operation with POST (application/json), or with GET and a query parameter. ${where}`;
  return (req, res, next) => {
    // graphql-sse's single-connection mode GETs its stream with a header, not parameters.
    if (req.method !== 'GET' || req.path !== '/' || hasParameters(req) || req.headers.accept?.includes('text/event-stream')) return next();
    sendGraphQLError(res, 400, 'BAD_REQUEST', message);
  };
}
