import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { makeTempDir, removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { admin, call, padproHeaders, waitFor } from '../helpers/http.ts';

const SECRET = 'disk-full-test-secret';
/** Each callback carries this much text: it is stored three times (event, raw JSON, raw body). */
const BODY_TEXT = 'x'.repeat(64 * 1024);

function message(msgId: string): string {
  return JSON.stringify({ msgId, fromUser: 'wxid_alice', toUser: 'wxid_bot', msgType: 1, content: `${msgId} ${BODY_TEXT}`, createTime: 1700000000 });
}

/** Writes zeros to `path` until the file system refuses (ENOSPC), down to single pages. */
function fillDisk(path: string): void {
  const fd = openSync(path, 'w');
  try {
    for (const size of [1024 * 1024, 64 * 1024, 4096, 512]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw error;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** Why the test cannot run here, or undefined: it mounts a tmpfs, which takes root. */
function cannotMount(dir: string): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to mount a small tmpfs (CI runs as root)';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return `mount -t tmpfs failed: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
  }
}

/** Unmounts, lazily if something still holds a file in it (a test that failed half-way). */
function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' });
  } catch {
    execFileSync('umount', ['--lazy', dir]);
  }
}

describe('a full disk under the SQLite store', () => {
  const base = makeTempDir();
  const mountPoint = join(base, 'small');
  mkdirSync(mountPoint);
  const skip = cannotMount(mountPoint);
  const filler = join(mountPoint, 'filler');
  const subscriber = new FakeHttpServer();
  let gw: TestGateway | undefined;

  before(async () => {
    if (skip) return;
    await subscriber.start();
    gw = await startTestGateway(
      {
        channels: [{ id: 'wx', platform: 'wechat-pad', secret: SECRET }],
        subscriptions: [{ id: 'bot', url: `${subscriber.url}/in`, secret: 'bot-secret', timeoutMs: 1000, retry: { schedule: [0.2, 0.2] } }],
      },
      mountPoint,
    );
  });

  after(async () => {
    try {
      rmSync(filler, { force: true });
      await gw?.close();
      await subscriber.stop();
    } finally {
      if (!skip) unmount(mountPoint);
      removeDir(base);
    }
  });

  const post = (msgId: string) => {
    const body = message(msgId);
    return call('POST', `${gw!.url}/hooks/wx`, { body, headers: padproHeaders(SECRET, body) });
  };

  it('answers 503 while the disk is full, stores nothing by halves, and takes callbacks again once space is back', { skip, timeout: 60_000 }, async () => {
    assert.equal((await post('before-1')).status, 200);
    await subscriber.waitForRequests(1);

    fillDisk(filler);
    const refused: string[] = [];
    const stored = ['before-1'];
    for (let i = 0; i < 20; i += 1) {
      const id = `full-${i}`;
      const answer = await post(id);
      // A commit may still fit in space the log file already holds; no answer is ever a 500.
      assert.ok(answer.status === 200 || answer.status === 503, `callback ${id} answered ${answer.status}: ${answer.text}`);
      if (answer.status === 503) {
        assert.equal(answer.json.error.code, 'IMG_ERR_STORE_FULL');
        refused.push(id);
      } else stored.push(id);
    }
    assert.ok(refused.length >= 15, `callbacks refused while the disk is full: ${refused.length} of 20`);
    assert.equal((await call('GET', `${gw!.url}/healthz`)).status, 200);
    // Readiness stays: the store still answers, and the platform's retries must keep reaching this node.
    assert.equal((await call('GET', `${gw!.url}/readyz`)).status, 200);
    const channels = (await admin('GET', `${gw!.url}/v1/channels`)).json.data;
    assert.equal(channels[0].lastError.code, 'IMG_ERR_STORE_FULL');
    const fullLines = gw!.logs.filter((line) => line.level === 50 && /^the store's disk is full/.test(String(line.msg)));
    assert.equal(fullLines.length, 1, 'one error line says the disk is full');
    assert.ok(gw!.logs.some((line) => line.code === 'IMG_ERR_STORE_FULL' && line.status === 503), 'request lines carry the code');

    rmSync(filler);
    for (const id of refused) assert.equal((await post(id)).status, 200, `the platform's retry of ${id} is stored`);
    for (const id of stored) assert.equal((await post(id)).status, 200, `a repeat of ${id} is acknowledged`);
    assert.equal((await post('after-1')).status, 200);
    assert.ok(gw!.logs.some((line) => line.level === 30 && /takes writes again/.test(String(line.msg))));

    const all = [...stored, ...refused, 'after-1'];
    await subscriber.waitForRequests(all.length, 20_000);
    const db = new Database(join(mountPoint, 'imgate.db'), { readonly: true });
    try {
      const events = db.prepare('SELECT dedup_key AS id, count(*) AS n FROM events GROUP BY dedup_key').all() as { id: string; n: number }[];
      assert.deepEqual(events.map((e) => e.id).sort(), [...all].sort(), 'every message stored, once');
      assert.ok(events.every((e) => e.n === 1));
      const orphans = db.prepare('SELECT count(*) AS n FROM events e WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id)').get() as { n: number };
      assert.equal(orphans.n, 0, 'no event without its delivery');
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    } finally {
      db.close();
    }
    const delivered = await waitFor(() => (subscriber.requests.length >= all.length ? subscriber.requests : undefined));
    const ids = delivered.map((request) => request.headers['webhook-id']);
    assert.equal(new Set(ids).size, all.length, 'each event delivered once');
  });
});
