/// <reference types="vitest/config" />
// Vite builds the UI into web/dist, which sbems serves from its own port
// (src/api/static.c): content-hashed files under assets/ are cached for a
// year, index.html is revalidated.  `npm run dev` proxies the API and the
// WebSocket to a running sbems (SBEMS_URL, default http://127.0.0.1:8080).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const target = (globalThis as { process?: { env?: Record<string, string | undefined> } })
  .process?.env?.SBEMS_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2020',
    // Recharts is the biggest dependency: its own chunk, loaded by the chart pages only.
    rollupOptions: {
      output: {
        manualChunks: {
          react: ['react', 'react-dom', 'react-router-dom'],
          charts: ['recharts'],
        },
      },
    },
  },
  server: {
    proxy: {
      '/api/v1/ws': { target, ws: true, changeOrigin: false },
      '/api': { target, changeOrigin: false },
    },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    restoreMocks: true,
    css: false,
  },
});
