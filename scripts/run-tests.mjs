// Runs every test/**/*.test.ts with node's own test runner (through tsx). Node 20's `--test` does not
// expand globs or pick up .ts files by itself, hence this list. Arguments narrow the run to files
// whose path contains one of them: `node scripts/run-tests.mjs store pipeline`.
//
// The PostgreSQL tests need a server: one is started here for the whole run (embedded, on
// 127.0.0.1) and named to every test process in IMGATE_TEST_PG_URL, unless that is set already.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { tsImport } from 'tsx/esm/api';

function findTests(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return findTests(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

function runTests(files, env) {
  return new Promise((resolve) => {
    // Asynchronous, not spawnSync: this process must go on reading the server's log pipe, or the
    // server blocks once the pipe is full.
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], { stdio: 'inherit', env });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

const filters = process.argv.slice(2);
const files = findTests('test')
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

let server;
if (!process.env.IMGATE_TEST_PG_URL) {
  const { startPostgresServer } = await tsImport('../test/helpers/postgres.ts', import.meta.url);
  const started = performance.now();
  server = await startPostgresServer();
  console.log(`PostgreSQL for the tests on 127.0.0.1:${server.port}, started in ${Math.round(performance.now() - started)} ms`);
}
let code = 1;
try {
  code = await runTests(files, server ? { ...process.env, IMGATE_TEST_PG_URL: server.url } : process.env);
} finally {
  await server?.destroy();
}
process.exit(code);
