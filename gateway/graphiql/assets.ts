/** Where the gateway serves the files of the GraphiQL bundle (Vite's `base`, and the gateway's static route). */
export const GRAPHIQL_ASSET_BASE = '/graphiql-assets/';
