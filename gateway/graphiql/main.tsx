// The gateway's GraphiQL: queries and mutations over HTTP POST, subscriptions over
// graphql-ws, both to this page's own origin at /graphql. Built by Vite into dist/
// (npm run graphiql:build) and served by the gateway itself: no CDN, no web fonts.
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import '@graphiql/plugin-explorer/style.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { explorerPlugin } from '@graphiql/plugin-explorer';
import { createGraphiQLFetcher, type Fetcher } from '@graphiql/toolkit';
import { createClient } from 'graphql-ws';

const httpUrl = new URL('/graphql', window.location.href).href;
const wsUrl = httpUrl.replace(/^http/, 'ws');

const DEFAULT_QUERY = `# FitSync GraphiQL
#
# Log in: run the login mutation below, then put its token in the Headers tab
#   {"authorization": "Bearer <token>"}
# Queries, mutations and subscriptions all use that header (subscriptions send it
# in the WebSocket's connection_init).

mutation Login {
  login(email: "client@fitsync.test", password: "fitsync-demo") {
    token
  }
}

query Me {
  me {
    id
    name
    role
  }
}
`;

/** The headers editor's Authorization, whatever its case. */
function authorization(headers: Record<string, unknown> | undefined): string | undefined {
  const entry = Object.entries(headers ?? {}).find(([name]) => name.toLowerCase() === 'authorization');
  return typeof entry?.[1] === 'string' ? entry[1] : undefined;
}

// One fetcher (and one WebSocket) per Authorization: graphql-ws sends credentials once, in
// connection_init, so a new token from the headers editor needs a connection of its own.
const fetchers = new Map<string, Fetcher>();
function fetcherFor(auth: string | undefined): Fetcher {
  const key = auth ?? '';
  let fetcher = fetchers.get(key);
  if (!fetcher) {
    const wsClient = createClient({ url: wsUrl, lazy: true, connectionParams: auth ? { authorization: auth } : {} });
    fetcher = createGraphiQLFetcher({ url: httpUrl, wsClient });
    fetchers.set(key, fetcher);
  }
  return fetcher;
}

const fetcher: Fetcher = (params, opts) => fetcherFor(authorization(opts?.headers))(params, opts);

const explorer = explorerPlugin();

createRoot(document.getElementById('graphiql')!).render(
  <StrictMode>
    <GraphiQL fetcher={fetcher} plugins={[explorer]} defaultQuery={DEFAULT_QUERY} defaultEditorToolsVisibility="headers" />
  </StrictMode>,
);
