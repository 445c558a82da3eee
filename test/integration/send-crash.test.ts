import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { API_TOKEN, makeTempDir, removeDir, spawnGateway, type GatewayProcess } from '../helpers/gateway.ts';
import { call } from '../helpers/http.ts';

const PAD_SEND = '/message/SendTextMessage';

describe('a send cut off by a crash (the gateway as its own process)', () => {
  const pad = new FakeHttpServer();
  const dir = makeTempDir();
  const children: GatewayProcess[] = [];

  const start = async () => {
    const gateway = await spawnGateway(dir, {
      channels: [{ id: 'wx', platform: 'wechat-pad', secret: 'crash-test-secret', apiBase: pad.url, key: 'pad-key-0123' }],
    });
    children.push(gateway);
    return gateway;
  };
  const send = (gateway: GatewayProcess) =>
    call('POST', `${gateway.url}/v1/messages`, {
      token: API_TOKEN,
      headers: { 'idempotency-key': 'pay-100' },
      body: { channel: 'wx', to: 'wxid_alice', text: 'pay 100' },
    });

  after(async () => {
    for (const child of children) child.child.kill('SIGKILL');
    await pad.stop();
    removeDir(dir);
  });

  it('never sends again under the same key: after the claim is abandoned it answers 502 of unknown outcome', async () => {
    await pad.start();
    // The pad server takes the message and never answers: the gateway is killed while it waits.
    pad.respondWith({ status: 200, wait: new Promise<void>(() => undefined) });
    const first = await start();
    void send(first).catch(() => undefined);
    await pad.waitForRequests(1);
    first.child.kill('SIGKILL');
    await first.exited;

    // Two minutes on, the claim counts as abandoned (ABANDONED_CLAIM_MS); moved back rather than waited for.
    const db = new Database(join(dir, 'imgate.db'));
    db.prepare('UPDATE idempotency_keys SET created_at = created_at - 180000').run();
    db.close();

    const second = await start();
    const answer = await send(second);
    assert.equal(answer.status, 502, answer.text);
    assert.equal(answer.json.error.code, 'IMG_ERR_PLATFORM_UNREACHABLE');
    assert.equal(answer.json.error.details.outcome, 'unknown');
    const again = await send(second);
    assert.deepEqual(again.json, answer.json, 'the key keeps that answer');
    assert.equal(pad.requests.filter((request) => request.url.startsWith(PAD_SEND)).length, 1, 'the pad server got the message once');
    second.child.kill('SIGTERM');
    await second.exited;
  });
});
