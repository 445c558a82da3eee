import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { makeTempDir, removeDir, startTestGateway, testConfigDocument, type TestGateway } from '../helpers/gateway.ts';
import { call, eventsOf, padproHeaders } from '../helpers/http.ts';

const SECRET = 'backup-test-secret';
const PARTS = { channels: [{ id: 'wx', platform: 'wechat-pad', secret: SECRET }] };

/** The CLI as its own process, without blocking this one: the gateway under test runs in it. */
async function imgate(args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

function post(gw: TestGateway, msgId: string) {
  const body = JSON.stringify({ msgId, fromUser: 'wxid_alice', toUser: 'wxid_bot', msgType: 1, content: `backup ${msgId}`, createTime: 1700000000 });
  return call('POST', `${gw.url}/hooks/wx`, { body, headers: padproHeaders(SECRET, body) });
}

const platformIds = async (gw: TestGateway) => new Set<string>((await eventsOf(gw.url)).map((event) => event.message.platformId));

describe('imgate backup', () => {
  const base = makeTempDir();
  const gateways: TestGateway[] = [];
  after(async () => {
    for (const gw of gateways) await gw.close();
    removeDir(base);
  });

  it('copies the live store while callbacks keep coming, and a gateway started on the copy has the events', { timeout: 60_000 }, async () => {
    const liveDir = join(base, 'live');
    mkdirSync(liveDir);
    const configPath = join(base, 'live.yaml');
    writeFileSync(configPath, stringify(testConfigDocument(liveDir, PARTS)));
    const live = await startTestGateway(PARTS, liveDir);
    gateways.push(live);

    const before = Array.from({ length: 30 }, (_, i) => `before-${i}`);
    for (const id of before) assert.equal((await post(live, id)).status, 200);

    // Callbacks keep arriving while the backup runs.
    const acknowledged = new Set(before);
    const duringBackup: string[] = [];
    let backingUp = true;
    const traffic = (async () => {
      // Bounded: every event must stay within the one page (500) that platformIds reads.
      for (let i = 0; backingUp && i < 300; i += 1) {
        const answer = await post(live, `during-${i}`);
        assert.equal(answer.status, 200, answer.text);
        acknowledged.add(`during-${i}`);
        duringBackup.push(`during-${i}`);
      }
    })();
    const file = join(base, 'imgate-backup.db');
    const result = await imgate(['backup', file, '--config', configPath]);
    backingUp = false;
    await traffic;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^wrote ${file} \\(\\d+ bytes\\): a consistent copy of ${join(liveDir, 'imgate.db')}`));
    assert.ok(duringBackup.length > 0, 'callbacks were stored while the backup ran');
    assert.deepEqual(readdirSync(base).filter((name) => name.includes('.partial')), [], 'no partial file left');
    await live.close();
    gateways.splice(0);

    const restoredDir = join(base, 'restored');
    mkdirSync(restoredDir);
    copyFileSync(file, join(restoredDir, 'imgate.db'));
    const restored = await startTestGateway(PARTS, restoredDir);
    gateways.push(restored);
    const ids = await platformIds(restored);
    for (const id of before) assert.ok(ids.has(id), `${id}, stored before the backup, is in it`);
    for (const id of ids) assert.ok(acknowledged.has(id), `${id} in the backup was acknowledged`);
    assert.equal((await post(restored, 'before-0')).status, 200);
    assert.equal((await platformIds(restored)).size, ids.size, "a platform's retry of a backed-up message is a duplicate");
    assert.equal((await post(restored, 'after-restore')).status, 200);
    assert.ok((await platformIds(restored)).has('after-restore'));
  });

  it('refuses to overwrite a file unless --force', async () => {
    const dir = join(base, 'force');
    mkdirSync(dir);
    const configPath = join(base, 'force.yaml');
    writeFileSync(configPath, stringify(testConfigDocument(dir, PARTS)));
    const gw = await startTestGateway(PARTS, dir);
    gateways.push(gw);
    const file = join(base, 'existing.db');
    writeFileSync(file, 'an older backup');
    const refused = await imgate(['backup', file, '--config', configPath]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, `imgate: ${file} exists; use --force to overwrite it\n`);
    const forced = await imgate(['backup', file, '--force', '--config', configPath]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /^wrote /);
  });

  it('on PostgreSQL, prints the pg_dump command without the password and writes nothing', async () => {
    const configPath = join(base, 'pg.yaml');
    writeFileSync(configPath, stringify({ storage: { url: 'postgres://imgate:pg-password-s3cret@db.internal:5432/imgate?sslmode=require' } }));
    const file = join(base, 'imgate.dump');
    const result = await imgate(['backup', file, '--config', configPath]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /the store is PostgreSQL: imgate backup copies SQLite stores only, and wrote nothing/);
    assert.ok(result.stderr.includes(`pg_dump --format=custom --file='${file}' 'postgres://imgate@db.internal:5432/imgate?sslmode=require'`));
    assert.match(result.stderr, /pg_restore --no-owner/);
    assert.ok(!result.stderr.includes('pg-password-s3cret'));
    assert.equal(existsSync(file), false);
  });
});
