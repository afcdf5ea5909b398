import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = dirname(fileURLToPath(import.meta.url));
// Every web/*.html is a page (index, join, display, steward, audit…).
const input = Object.fromEntries(
  readdirSync(root)
    .filter((f) => f.endsWith('.html'))
    .map((f) => [f.replace(/\.html$/, ''), resolve(root, f)]),
);

export default defineConfig({
  root,
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: join(root, 'dist'),
    emptyOutDir: true,
    rollupOptions: { input },
    target: 'es2022',
  },
});
