import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { ADMIN_TOKEN, makeTempDir, removeDir, testConfigDocument } from '../helpers/gateway.ts';

const SECRET = 'start-errors-channel-secret';

/** `imgate start` on a config whose store is `dir/imgate.db`; it must fail, so it is given 30 s at most. */
function start(dir: string) {
  const configPath = join(dir, '..', `${dir.split('/').pop()}.yaml`);
  writeFileSync(configPath, stringify(testConfigDocument(dir, { channels: [{ id: 'wx', platform: 'wechat-pad', secret: SECRET }] })));
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start', '--config', configPath], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '' },
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A migrated, closed store at `dir/imgate.db`. */
async function realStore(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'imgate.db');
  const store = openSqliteStore(file);
  await store.migrate();
  await store.close();
  return file;
}

/** One line naming the file and the way out; no stack, no secret. */
function assertOneClearLine(result: { code: number | null; stdout: string; stderr: string }, file: string, advice: RegExp): void {
  assert.equal(result.code, 1, result.stderr);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, no stack trace:\n${result.stderr}`);
  assert.ok(lines[0]!.startsWith(`imgate: `), lines[0]);
  assert.ok(lines[0]!.includes(file), `names ${file}: ${lines[0]}`);
  assert.match(lines[0]!, advice);
  assert.ok(!result.stdout.includes('imgate listening'));
  for (const secret of [SECRET, ADMIN_TOKEN]) assert.ok(!`${result.stdout}${result.stderr}`.includes(secret));
}

describe('imgate start on a store it cannot use', () => {
  const base = makeTempDir();
  const mounted: string[] = [];
  after(() => {
    for (const dir of mounted) execFileSync('umount', [dir]);
    removeDir(base);
  });

  it('refuses a file that is not a database, naming it and saying to restore from a backup', () => {
    const dir = join(base, 'garbage');
    mkdirSync(dir);
    const file = join(dir, 'imgate.db');
    writeFileSync(file, Buffer.concat([Buffer.from('definitely not SQLite\n'), Buffer.alloc(8192, 0xa5)]));
    assertOneClearLine(start(dir), file, /not an imgate database: file is not a database \(SQLITE_NOTADB\)\. Restore it from a backup/);
  });

  it('refuses a truncated database the same way', async () => {
    const dir = join(base, 'truncated');
    const file = await realStore(dir);
    truncateSync(file, Math.floor(statSync(file).size / 4));
    assertOneClearLine(start(dir), file, /is damaged .*\(SQLITE_CORRUPT\)\. Restore it from a backup/);
  });

  it('refuses a store it cannot write, saying to check permissions and the mount', async () => {
    const dir = join(base, 'read-only');
    mkdirSync(dir);
    // File modes do not stop root: a read-only mount does.
    const root = process.getuid?.() === 0;
    if (root) {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir]);
      mounted.push(dir);
    }
    const file = await realStore(dir);
    if (root) execFileSync('mount', ['-o', 'remount,ro', dir]);
    else {
      chmodSync(file, 0o444);
      chmodSync(dir, 0o555);
    }
    assertOneClearLine(start(dir), file, /cannot open the SQLite store .* for writing: .*not on a read-only mount/);
    if (!root) chmodSync(dir, 0o755);
  });
});
