// Builds the client into dist/: one page, its scripts bundled, nothing fetched from a CDN.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  base: './',
  // @polkadot/api makes up most of the one script (about 1 MB minified, 350 kB gzipped).
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1500 },
  // RSA key operations are slow on a busy two-core machine.
  test: { environment: 'node', include: ['test/**/*.test.ts'], testTimeout: 60_000 },
});
