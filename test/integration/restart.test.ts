import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { makeTempDir, removeDir, spawnGateway, type GatewayProcess } from '../helpers/gateway.ts';
import { call, eventsOf, padproHeaders, waitFor } from '../helpers/http.ts';

const SECRET = 'restart-test-secret';

function message(msgId: string): string {
  return JSON.stringify({ msgId, fromUser: 'wxid_alice', toUser: 'wxid_bot', msgType: 1, content: `restart ${msgId}`, createTime: 1700000000 });
}

async function post(gateway: GatewayProcess, body: string) {
  return call('POST', `${gateway.url}/hooks/wx`, { body, headers: padproHeaders(SECRET, body) });
}

describe('across restarts (the gateway as its own process)', () => {
  const dirs: string[] = [];
  const children: GatewayProcess[] = [];
  const subscriber = new FakeHttpServer();

  async function start(dir: string): Promise<GatewayProcess> {
    const gateway = await spawnGateway(dir, {
      channels: [{ id: 'wx', platform: 'wechat-pad', secret: SECRET }],
      subscriptions: [{ id: 'bot', url: `${subscriber.url}/in`, secret: 'bot-secret', timeoutMs: 1000, retry: { schedule: [0.2, 0.2, 0.2] } }],
    });
    children.push(gateway);
    return gateway;
  }

  after(async () => {
    for (const child of children) child.child.kill('SIGKILL');
    await subscriber.stop();
    for (const dir of dirs) removeDir(dir);
  });

  it('delivers a message posted again after a graceful restart only once', async () => {
    await subscriber.start();
    const dir = makeTempDir();
    dirs.push(dir);
    const first = await start(dir);
    assert.equal((await post(first, message('31337'))).status, 200);
    await subscriber.waitForRequests(1);
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0, 'a graceful shutdown exits 0');

    const second = await start(dir);
    assert.equal((await post(second, message('31337'))).status, 200, 'a duplicate is acknowledged');
    await new Promise((resolve) => setTimeout(resolve, 800));
    assert.equal(subscriber.requests.length, 1);
    const events = (await call('GET', `${second.url}/v1/events`, { token: 'test-admin-token-0123456789' })).json.data;
    assert.equal(events.filter((e: any) => e.message.platformId === '31337').length, 1);
    second.child.kill('SIGTERM');
    await second.exited;
  });

  it('delivers an event acknowledged just before a SIGKILL once it is restarted', async () => {
    const dir = makeTempDir();
    dirs.push(dir);
    let release: () => void = () => undefined;
    subscriber.respondWith({ status: 200, wait: new Promise<void>((resolve) => (release = resolve)) });
    const seen = subscriber.requests.length;

    const first = await start(dir);
    assert.equal((await post(first, message('4242'))).status, 200);
    await subscriber.waitForRequests(seen + 1);
    first.child.kill('SIGKILL');
    await first.exited;
    release();

    const second = await start(dir);
    await subscriber.waitForRequests(seen + 2, 20_000);
    const [before, after] = subscriber.requests.slice(seen);
    assert.equal(after!.headers['webhook-id'], before!.headers['webhook-id'], 'the same event, with the same webhook-id');
    const delivery = await waitFor(async () => {
      const list = (await call('GET', `${second.url}/v1/deliveries`, { token: 'test-admin-token-0123456789' })).json.data;
      return list.find((d: any) => d.status === 'succeeded');
    });
    assert.equal(delivery.attempts, 1, 'the attempt cut off by the kill was never recorded');
    assert.equal((await eventsOf(second.url)).length, 1);
    second.child.kill('SIGTERM');
    await second.exited;
  });
});
