/// <reference types="vitest/config" />
// Vite build of the console. The output is embedded into mailvaultd by
// scripts/embed_web.py (src/console/web_assets.cmake passes --outDir into the
// build tree, so the source tree is never written). The daemon's CSP is
// script-src 'self'; style-src 'self': nothing may be inlined into
// index.html, so the modulepreload polyfill (an inline script) is off and no
// asset is turned into a data: URL.
import { defineConfig } from 'vite';

// The config runs in Node; the app's tsconfig has browser types only, so
// the one Node global used here is declared instead of pulling in
// @types/node for every file.
declare const process: { env: Record<string, string | undefined> };

export default defineConfig({
  // JSX through esbuild alone (no Babel): Preact's automatic runtime.
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: process.env.MV_WEB_OUT_DIR || 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2020',
    sourcemap: false,
    reportCompressedSize: true,
    rollupOptions: {
      output: {
        entryFileNames: 'assets/[name]-[hash].js',
        chunkFileNames: 'assets/[name]-[hash].js',
        assetFileNames: 'assets/[name]-[hash][extname]',
      },
    },
  },
  server: {
    // `npm run dev` against a running mailvaultd (default console address).
    proxy: { '/api': process.env.MV_API_URL || 'http://127.0.0.1:8025' },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
    // A zone with an offset and daylight saving, so local-time bugs show.
    env: { TZ: 'Europe/Berlin' },
  },
});
