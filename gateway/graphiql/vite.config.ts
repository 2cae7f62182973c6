// Builds the gateway's GraphiQL into dist/ (npm run graphiql:build): every script, style,
// font and Monaco worker is a file of the bundle, served by the gateway under ASSET_BASE,
// so the page asks no other host for anything.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { GRAPHIQL_ASSET_BASE } from './assets.js';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: GRAPHIQL_ASSET_BASE,
  logLevel: 'warn',
  // The gateway's .env is not the page's business.
  envDir: false,
  publicDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Fonts and icons as files: nothing inlined that a strict CSP would have to allow as data:.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 8_000,
    sourcemap: false,
    rollupOptions: {
      // React libraries' "use client" lines mean nothing in a bundle for the browser.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  worker: { format: 'es' },
});
