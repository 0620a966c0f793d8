import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));

export default defineConfig({
  // Served at `/` by `ode serve`, or from any folder by nginx: relative asset paths.
  base: './',
  esbuild: { jsx: 'automatic' },
  // The engine package fetches its .wasm next to its own module: keep it out of pre-bundling.
  optimizeDeps: { exclude: ['@ode/engine'] },
  worker: { format: 'es' },
  server: { fs: { allow: [repo] } },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 2048,
    assetsInlineLimit: 0,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    globals: true,
  },
});
