import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { makeTempDir, removeDir, spawnGateway, startTestGateway, type GatewayProcess, type TestGateway } from '../helpers/gateway.ts';
import { admin, call, padproHeaders, waitFor } from '../helpers/http.ts';

const SECRET = 'shutdown-test-secret-9c0d';

function message(msgId: string): string {
  return JSON.stringify({ msgId, fromUser: 'wxid_alice', toUser: 'wxid_bot', msgType: 1, content: `shutdown ${msgId}`, createTime: Math.floor(Date.now() / 1000) });
}

async function postInbound(url: string, msgId: string): Promise<void> {
  const body = message(msgId);
  const answer = await call('POST', `${url}/hooks/wx`, { body, headers: padproHeaders(SECRET, body) });
  assert.equal(answer.status, 200, answer.text);
}

async function onlyDelivery(url: string, status: string): Promise<any> {
  return waitFor(async () => {
    const [delivery] = (await admin('GET', `${url}/v1/deliveries`)).json.data as any[];
    if (delivery?.status !== status) return undefined;
    return (await admin('GET', `${url}/v1/deliveries/${delivery.id}`)).json;
  }, 10_000, `a ${status} delivery`);
}

describe('delivery at shutdown', () => {
  const dirs: string[] = [];
  const children: GatewayProcess[] = [];
  const gateways: TestGateway[] = [];
  const subscriber = new FakeHttpServer();

  function parts() {
    return {
      channels: [{ id: 'wx', platform: 'wechat-pad', secret: SECRET, botWxid: 'wxid_bot' }],
      // The longest timeout there is: waiting it out would outlast the shutdown, and so would the lease.
      subscriptions: [{ id: 'bot', url: `${subscriber.url}/in`, secret: 'bot-secret', timeoutMs: 60_000 }],
    };
  }

  after(async () => {
    for (const child of children) child.child.kill('SIGKILL');
    for (const gateway of gateways) await gateway.close();
    await subscriber.stop();
    for (const dir of dirs) removeDir(dir);
  });

  it('aborts an attempt a subscriber leaves hanging, exits 0, and sends it again first thing after the restart', async () => {
    await subscriber.start();
    const dir = makeTempDir();
    dirs.push(dir);
    subscriber.respondWith({ status: 200, wait: new Promise<void>(() => undefined) });
    const seen = subscriber.requests.length;

    const first = await spawnGateway(dir, parts());
    children.push(first);
    await postInbound(first.url, '60001');
    await subscriber.waitForRequests(seen + 1);
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0, 'the shutdown finished within server.shutdownTimeoutMs');

    const second = await spawnGateway(dir, parts());
    children.push(second);
    const delivery = await onlyDelivery(second.url, 'succeeded');
    assert.deepEqual(
      delivery.attemptLog.map((a: any) => [a.statusCode, a.error]),
      [
        [null, 'aborted: the gateway shut down'],
        [200, null],
      ],
    );
    const [cut, resent] = subscriber.requests.slice(seen);
    assert.equal(resent!.headers['webhook-id'], cut!.headers['webhook-id'], 'the same event, with the same webhook-id');
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0);
  });

  it('lets an attempt answered during the grace period finish and records it as it ended', async () => {
    const dir = makeTempDir();
    dirs.push(dir);
    let release: () => void = () => undefined;
    subscriber.respondWith({ status: 200, wait: new Promise<void>((resolve) => (release = resolve)) });
    const seen = subscriber.requests.length;

    const first = await startTestGateway(parts(), dir);
    await postInbound(first.url, '60002');
    await subscriber.waitForRequests(seen + 1);
    const closing = first.close();
    setTimeout(release, 200);
    await closing;
    assert.ok(!first.logText().includes('aborting'), 'nothing was aborted');

    const second = await startTestGateway(parts(), dir);
    gateways.push(second);
    const delivery = await onlyDelivery(second.url, 'succeeded');
    assert.deepEqual(delivery.attemptLog.map((a: any) => a.statusCode), [200]);
    assert.equal(subscriber.requests.length, seen + 1, 'sent once');
  });
});
