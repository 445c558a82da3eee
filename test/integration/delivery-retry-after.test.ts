import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { admin, call, padproHeaders, waitFor } from '../helpers/http.ts';

const SECRET = 'retry-after-test-secret-7a8b';

/** Retry-After values that are neither delta-seconds nor an HTTP-date, or that ask for no wait at all. */
const NO_WAIT = ['-1', '+5', 'Tue 3', 'foo 12', '1.5', '0', 'Wed, 21 Oct 2015 07:28:00 GMT'];

async function postInbound(gw: TestGateway, channel: string, msgId: string): Promise<void> {
  const body = JSON.stringify({ msgId, fromUser: 'wxid_alice', toUser: 'wxid_bot', msgType: 1, content: 'hello', createTime: Math.floor(Date.now() / 1000) });
  const answer = await call('POST', `${gw.url}/hooks/${channel}`, { body, headers: padproHeaders(SECRET, body) });
  assert.equal(answer.status, 200, answer.text);
}

describe('Retry-After from a subscriber', () => {
  let gw: TestGateway;
  const noWait = NO_WAIT.map((value) => ({ value, server: new FakeHttpServer() }));
  // The first request is answered 503 with an IMF-fixdate (toUTCString) 2 to 3 s after it arrived:
  // the date has whole seconds only.
  let laterAnswers = 0;
  const later = new FakeHttpServer((request) =>
    (laterAnswers += 1) === 1 ? { status: 503, headers: { 'retry-after': new Date(request.at + 3000).toUTCString() } } : { status: 200 },
  );
  const servers = [...noWait.map((s) => s.server), later];

  before(async () => {
    await Promise.all(servers.map((s) => s.start()));
    gw = await startTestGateway({
      channels: ['nowait', 'later'].map((id) => ({ id, platform: 'wechat-pad', secret: SECRET, botWxid: 'wxid_bot' })),
      subscriptions: [
        // A 1 s schedule: 0.8 s at least, with the jitter.
        ...noWait.map(({ server }, i) => ({ id: `nowait-${i}`, url: `${server.url}/in`, secret: `nowait-${i}-secret`, channels: ['nowait'], retry: { schedule: [1] } })),
        { id: 'later', url: `${later.url}/in`, secret: 'later-secret', channels: ['later'], retry: { schedule: [0.1] } },
      ],
    });
  });

  after(async () => {
    await gw.close();
    await Promise.all(servers.map((s) => s.stop()));
    removeDir(gw.dir);
  });

  it('keeps to the retry schedule when Retry-After is malformed, 0 or in the past', async () => {
    for (const { value, server } of noWait) server.respondWith({ status: 503, headers: { 'retry-after': value }, body: 'busy' });
    await postInbound(gw, 'nowait', '5550001');
    for (const { value, server } of noWait) {
      await server.waitForRequests(2);
      const gap = server.requests[1]!.at - server.requests[0]!.at;
      assert.ok(gap >= 750, `Retry-After ${JSON.stringify(value)}: the retry came ${gap} ms after the 503; the schedule asked for 0.8 s at least`);
    }
    const deliveries = (await admin('GET', `${gw.url}/v1/deliveries?limit=500`)).json.data as any[];
    for (let i = 0; i < noWait.length; i += 1) {
      const delivery = deliveries.find((d) => d.subscriptionId === `nowait-${i}`);
      const detail = await waitFor(async () => {
        const d = (await admin('GET', `${gw.url}/v1/deliveries/${delivery.id}`)).json;
        return d.status === 'succeeded' ? d : undefined;
      });
      assert.deepEqual(detail.attemptLog.map((a: any) => a.statusCode), [503, 200]);
    }
  });

  it('waits until an HTTP-date Retry-After when that is later than the schedule', async () => {
    await postInbound(gw, 'later', '5550002');
    await later.waitForRequests(2, 15_000);
    const gap = later.requests[1]!.at - later.requests[0]!.at;
    assert.ok(gap >= 1900, `the retry came ${gap} ms after the 503; Retry-After asked for about 2-3 s`);
  });
});
