import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin, type ProxyOptions } from 'vite';

const server = process.env.DG_SERVER_URL ?? 'http://127.0.0.1:5151';

// The headless server refuses requests whose Origin is another host (a page on :5173 is one), so the dev
// proxy forwards them as if they came from the server's own page.
const toServer: ProxyOptions = {
  target: server,
  changeOrigin: true,
  configure: (proxy) => {
    proxy.on('proxyReq', (req) => req.removeHeader('origin'));
  },
};

// Only in the built page: the dev server's React refresh preamble is an inline script.
const contentSecurityPolicy: Plugin = {
  name: 'dataguardian-csp',
  apply: 'build',
  transformIndexHtml: () => [
    {
      tag: 'meta',
      attrs: {
        'http-equiv': 'Content-Security-Policy',
        content: "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'",
      },
      injectTo: 'head-prepend',
    },
  ],
};

export default defineConfig({
  root: 'renderer',
  // Relative asset paths: Electron loads the built page from a file:// URL.
  base: './',
  plugins: [react(), contentSecurityPolicy],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    proxy: {
      '/api': toServer,
      '/health': toServer,
    },
  },
});
