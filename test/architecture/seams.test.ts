import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { platformIds } from '../../src/platforms/registry.ts';

/**
 * The seams the code keeps: platforms are known only under src/platforms (a new platform is its
 * folder and a line in the registry), and imports between the top-level modules point one way.
 */

const SRC = resolve('src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** `src/<module>/…` → `<module>` (`main.ts` is its own). */
function moduleOf(path: string): string {
  const [first] = relative(SRC, path).split('/');
  return (first ?? '').replace(/\.ts$/, '');
}

/** The source without its comments, so that prose naming a platform does not count. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** Every module a file imports from, `import type` included. */
function importedModules(path: string): string[] {
  const specifiers = [...readFileSync(path, 'utf8').matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+'(\.[^']+)'/gms)].map((match) => match[1] as string);
  return specifiers.map((specifier) => moduleOf(resolve(dirname(path), specifier)));
}

/** Imports that would point the wrong way: `from` must not import `to`. */
const FORBIDDEN: [from: string, to: string[], why: string][] = [
  ['core', ['*'], 'core is the bottom layer'],
  ['store', ['config', 'platforms', 'pipeline', 'delivery', 'outbound', 'runtime', 'http', 'pull', 'subscriptions', 'tokens', 'metrics'], 'the store knows only its ports'],
  ['metrics', ['config', 'platforms', 'pipeline', 'delivery', 'outbound', 'runtime', 'http', 'pull', 'subscriptions', 'tokens'], 'the layers above count; metrics only keep the numbers'],
  ['platforms', ['config', 'outbound', 'pipeline', 'delivery', 'runtime', 'http', 'pull', 'subscriptions', 'wxkf-manager', 'cli', 'main'], 'a platform is a leaf the rest of imgate uses'],
  ['delivery', ['platforms', 'runtime', 'http', 'outbound'], 'the delivery worker must not load every adapter'],
  ['runtime', ['delivery', 'http'], 'runtime drives channels, not deliveries'],
];

describe('seams', () => {
  const files = sourceFiles(SRC);

  it('names platforms only under src/platforms', () => {
    const found: string[] = [];
    for (const path of files) {
      const file = relative(SRC, path);
      if (file.startsWith('platforms/')) continue;
      const text = code(readFileSync(path, 'utf8'));
      for (const id of platformIds) {
        if (new RegExp(`['"\`]${id}['"\`]`).test(text)) found.push(`${file} names '${id}'`);
      }
    }
    assert.deepEqual(found, []);
  });

  it('cites nothing outside the repository', () => {
    const notShipped = /PLATFORMS\.md|PRODUCT\.md|\bseeds?\/|\bseeds? 0\d\d\b/;
    const docs = readdirSync('docs', { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.md'))
      .map((entry) => join(entry.parentPath, entry.name));
    const citing = [...files, ...docs, 'README.md', 'CONTRIBUTING.md'].filter((path) => notShipped.test(readFileSync(path, 'utf8')));
    assert.deepEqual(citing, [], 'comments and docs cite the platforms\' documentation or docs/, which ship with imgate');
  });

  it('imports between modules point one way', () => {
    const wrong: string[] = [];
    for (const path of files) {
      const from = moduleOf(path);
      for (const to of importedModules(path)) {
        if (to === from) continue;
        for (const [module, targets, why] of FORBIDDEN) {
          if (module === from && (targets.includes('*') || targets.includes(to))) wrong.push(`${relative(SRC, path)} imports ${to} (${why})`);
        }
      }
    }
    assert.deepEqual(wrong, []);
  });
});
