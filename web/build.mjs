// Bundle the console into OUT (default dist/): app.js, app.css, index.html.
// Run by scripts/web_assets.py from the meson build (after npm ci).
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';

const out = process.argv[2] || 'dist';
mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: ['src/app.js'],
  bundle: true,
  minify: true,
  format: 'iife',
  outfile: `${out}/app.js`,
  target: ['chrome100', 'firefox100', 'safari15'],
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync('src/index.html', `${out}/index.html`);
