import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI_ENTRY, makeTempDir, removeDir, spawnGateway, type GatewayProcess } from '../helpers/gateway.ts';
import { eventsOf, waitFor } from '../helpers/http.ts';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string; dependencies: Record<string, string>; bin: Record<string, string>; scripts: Record<string, string> };

describe('the compiled gateway (dist/, what npm start and the imgate bin run)', () => {
  const dir = makeTempDir();
  let gateway: GatewayProcess;

  before(async () => {
    // Incremental: after `npm ci` (which builds through `prepare`) this only checks that dist/ is current.
    const build = spawnSync('npm', ['run', 'build', '--silent'], { encoding: 'utf8' });
    assert.equal(build.status, 0, build.stdout + build.stderr);
    gateway = await spawnGateway(dir, { channels: [{ id: 'wx', platform: 'wechat-pad', secret: 'compiled-secret-1', botWxid: 'wxid_bot' }] }, 0, 'compiled');
  });

  after(async () => {
    gateway.child.kill('SIGTERM');
    await gateway.exited;
    removeDir(dir);
  });

  it('runs without TypeScript at run time: no tsx or typescript among the production dependencies', () => {
    assert.equal(pkg.dependencies.tsx, undefined);
    assert.equal(pkg.dependencies.typescript, undefined);
    assert.equal(pkg.bin.imgate, 'dist/cli/main.js');
    assert.match(pkg.scripts.start!, /node dist\/cli\/main\.js start$/);
  });

  it('prints its version', () => {
    assert.equal(execFileSync(process.execPath, [...CLI_ENTRY.compiled, '--version'], { encoding: 'utf8' }).trim(), pkg.version);
  });

  it('serves, and stores a callback that the compiled simulate command fires at it', async () => {
    assert.equal((await fetch(`${gateway.url}/healthz`)).status, 200);
    const simulate = spawnSync(process.execPath, [...CLI_ENTRY.compiled, 'simulate', 'wechat-pad', '--config', join(dir, 'imgate.yaml'), '--url', gateway.url, '--text', 'from dist'], { encoding: 'utf8' });
    assert.equal(simulate.status, 0, simulate.stderr);
    const stored = await waitFor(async () => (await eventsOf(gateway.url)).find((event) => event.message.text === 'from dist'), 5000, 'the simulated event');
    assert.equal(stored.channel, 'wx');
  });

  it('stops cleanly on SIGTERM', async () => {
    gateway.child.kill('SIGTERM');
    assert.equal(await gateway.exited, 0);
  });
});
