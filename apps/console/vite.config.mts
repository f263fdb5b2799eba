import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Weft serves dist/ itself at `/` (ConsoleModule in @weft/platform): every asset is
// bundled, nothing comes from a CDN, and the API is /v1 on the same origin.
export default defineConfig({
  plugins: [react()],
  base: '/',
  // The published workflow JSON Schema (docs/schema), bundled for the draft editor's completion.
  resolve: { alias: { '@weft-schema/workflow-v1.json': fileURLToPath(new URL('../../docs/schema/workflow-v1.schema.json', import.meta.url)) } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false, chunkSizeWarningLimit: 2500, reportCompressedSize: false },
  server: { proxy: { '/v1': 'http://127.0.0.1:8080', '/openapi.json': 'http://127.0.0.1:8080' } },
});
