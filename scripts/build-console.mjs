// Builds the admin console (web/) into dist/console/: one bundled, minified script (esbuild), the
// stylesheet and the page. Run by `npm run build`; nothing is fetched from the network at run time.
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Writes the console into `outDir` (default dist/console). */
export async function buildConsole(outDir = join(root, 'dist', 'console')) {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [join(root, 'web', 'src', 'main.tsx')],
    outfile: join(outDir, 'console.js'),
    bundle: true,
    minify: true,
    sourcemap: true,
    format: 'esm',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    logLevel: 'warning',
  });
  await copyFile(join(root, 'web', 'index.html'), join(outDir, 'index.html'));
  await copyFile(join(root, 'web', 'console.css'), join(outDir, 'console.css'));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildConsole();
