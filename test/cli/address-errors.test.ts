import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { CLI_ENTRY, makeTempDir, removeDir, testConfigDocument } from '../helpers/gateway.ts';

/** The CLI as a process, without blocking this one (the port holder below runs in it); 30 s at most. */
async function imgate(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await promisify(execFile)(process.execPath, [...CLI_ENTRY.source, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 30_000 });
    return { code: 0, stderr: '' };
  } catch (error) {
    const failed = error as { code: number; stderr: string };
    return { code: failed.code, stderr: failed.stderr };
  }
}

/** One line, `imgate: …`, matching `expected`: no bare error code, no stack trace. */
function assertOneLine(result: { code: number; stderr: string }, expected: RegExp): void {
  assert.equal(result.code, 1, result.stderr);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, no stack trace:\n${result.stderr}`);
  assert.match(lines[0]!, expected);
}

function listening(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

describe('the CLI says what to do when the address is wrong', () => {
  const dir = makeTempDir();
  /** A port that was free a moment ago and has nothing listening on it. */
  let closedPort = 0;
  const holder = createServer();
  let heldPort = 0;
  const configAt = (port: number) => {
    const path = join(dir, `imgate-${port}.yaml`);
    writeFileSync(path, stringify(testConfigDocument(dir, { server: { port }, channels: [{ id: 'wx', platform: 'wechat-pad', secret: 'unreachable-secret-1' }] })));
    return path;
  };

  before(async () => {
    const probe = createServer();
    closedPort = await listening(probe);
    await new Promise((resolve) => probe.close(resolve));
    heldPort = await listening(holder);
  });
  after(async () => {
    await new Promise((resolve) => holder.close(resolve));
    removeDir(dir);
  });

  for (const [name, args] of [
    ['simulate', ['simulate', 'wechat-pad']],
    ['send', ['send', '--channel', 'wx', '--to', 'wxid_a', '--text', 'hi']],
    ['replay', ['replay', 'dlv_1']],
  ] as const) {
    it(`${name} with no gateway running names the address, imgate start and --url`, async () => {
      const url = `http://127.0.0.1:${closedPort}`;
      const expected = new RegExp(`^imgate: no gateway answers at ${url} \\(connection refused\\): start it with \`imgate start\`, or name the running one with --url$`);
      assertOneLine(await imgate([...args, '--config', configAt(closedPort)]), expected);
    });
  }

  it('start on a port another process holds names the address, the config key and the file', async () => {
    const config = configAt(heldPort);
    const result = await imgate(['start', '--config', config]);
    assertOneLine(result, new RegExp(`^imgate: cannot listen on 127\\.0\\.0\\.1:${heldPort}: another process is using that port; stop it, or set server\\.port in ${config} to a free one$`));
  });
});
