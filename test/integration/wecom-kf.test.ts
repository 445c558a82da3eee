import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { kfMsgid } from '../../src/platforms/wecom-kf/send.ts';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { API_TOKEN, ADMIN_TOKEN, makeTempDir, removeDir, spawnGateway, startTestGateway, type GatewayProcess, type TestGateway } from '../helpers/gateway.ts';
import { call, eventsOf, waitFor } from '../helpers/http.ts';
import { FakeWecomApi, WECOM_KEYS, wecomCallback } from '../helpers/wecom.ts';
import {
  CUSTOMER,
  KF_SECRET,
  OPEN_KFID,
  SEND_PATH,
  SERVICER,
  bodyOf,
  customerText,
  kfNotice,
  scriptSyncMsg,
  servicerText,
  syncRequests,
  systemEvent,
} from '../platforms/wecom-kf/helpers.ts';

const CONVERSATION = `${OPEN_KFID}:${CUSTOMER}`;

function kfChannel(apiBase: string): Record<string, unknown> {
  return {
    id: 'kf',
    platform: 'wecom-kf',
    corpId: WECOM_KEYS.corpId,
    corpSecret: KF_SECRET,
    token: WECOM_KEYS.token,
    encodingAESKey: WECOM_KEYS.encodingAESKey,
    apiBase,
    pollIntervalSeconds: 0,
  };
}

function subscription(url: string): Record<string, unknown> {
  return { id: 'bot', url: `${url}/in`, secret: 'bot-secret', includeSelf: true, timeoutMs: 1000, retry: { schedule: [0.2, 0.2, 0.2] } };
}

async function notify(baseUrl: string, token: string, options: Parameters<typeof wecomCallback>[1] = {}) {
  const callback = wecomCallback(kfNotice(token), options);
  return call('POST', `${baseUrl}/hooks/kf?${callback.query}`, { body: callback.body, headers: { 'content-type': 'text/xml' } });
}

/** platformId → how many times the subscriber received it. */
function receivedCounts(subscriber: FakeHttpServer): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of subscriber.requests) {
    const id = JSON.parse(request.body.toString('utf8')).message.platformId as string;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('wecom-kf channel (in-process gateway)', () => {
  const api = new FakeWecomApi();
  const subscriber = new FakeHttpServer();
  let gateway: TestGateway;

  before(async () => {
    await api.start();
    await subscriber.start();
    scriptSyncMsg(api, {
      '': { msg_list: [customerText('m1', 'hello')], next_cursor: 'c1', has_more: 1 },
      c1: { msg_list: [], next_cursor: 'c2', has_more: 1 },
      c2: {
        msg_list: [servicerText('m2', 'how can I help?'), systemEvent('m3', { event_type: 'enter_session', external_userid: CUSTOMER }), customerText('m1', 'hello')],
        next_cursor: 'c3',
      },
      c3: { msg_list: [customerText('m1', 'hello'), customerText('m4', 'thanks')], next_cursor: 'c4' },
    });
    gateway = await startTestGateway({ channels: [kfChannel(api.url)], subscriptions: [subscription(subscriber.url)] });
  });

  after(async () => {
    await gateway.close();
    await api.stop();
    await subscriber.stop();
    removeDir(gateway.dir);
  });

  it('answers a notice with success, pulls with its Token through every page, and delivers each message once', async () => {
    const answer = await notify(gateway.url, 'notice-token-1');
    assert.equal(answer.status, 200);
    assert.equal(answer.text, 'success');

    await subscriber.waitForRequests(3);
    assert.deepEqual(
      syncRequests(api).map((body) => [body.cursor ?? null, body.token, body.open_kfid, body.limit]),
      [
        [null, 'notice-token-1', OPEN_KFID, 1000],
        ['c1', 'notice-token-1', OPEN_KFID, 1000],
        ['c2', 'notice-token-1', OPEN_KFID, 1000],
      ],
    );
    await sleep(300);
    assert.deepEqual(Object.fromEntries(receivedCounts(subscriber)), { m1: 1, m2: 1, m3: 1 }, 'm1, repeated on page 3, once');
  });

  it('flags the servicer message as self and types the system event', async () => {
    const events = await eventsOf(gateway.url);
    const byId = new Map(events.map((event: any) => [event.message.platformId, event]));
    const m1 = byId.get('m1');
    assert.equal(m1.type, 'message');
    assert.equal(m1.message.text, 'hello');
    assert.deepEqual(m1.conversation, { id: CONVERSATION, type: 'direct', name: null });
    assert.deepEqual(m1.sender, { id: CUSTOMER, name: null, isSelf: false });
    assert.deepEqual(byId.get('m2').sender, { id: SERVICER, name: null, isSelf: true });
    assert.equal(byId.get('m3').type, 'system');
    assert.equal(byId.get('m3').message.type, 'system');
    assert.equal(byId.get('m3').message.content.eventType, 'enter_session');
  });

  it('resumes the next pull from the stored cursor with the new Token, not delivering a repeated msgid again', async () => {
    const answer = await notify(gateway.url, 'notice-token-2');
    assert.equal(answer.status, 200);
    await subscriber.waitForRequests(4);
    assert.deepEqual(syncRequests(api).at(-1), { limit: 1000, open_kfid: OPEN_KFID, cursor: 'c3', token: 'notice-token-2' });
    await sleep(300);
    assert.deepEqual(Object.fromEntries(receivedCounts(subscriber)), { m1: 1, m2: 1, m3: 1, m4: 1 });
  });

  it('answers a bad signature 401 and pulls nothing', async () => {
    const before = syncRequests(api).length;
    const answer = await notify(gateway.url, 'forged-token', { token: 'not-the-channel-token' });
    assert.equal(answer.status, 401);
    assert.equal(answer.json.error.code, 'IMG_ERR_INBOUND_BAD_SIGNATURE');
    await sleep(200);
    assert.equal(syncRequests(api).length, before);
  });

  it('sends through kf/send_msg with a msgid from the idempotency key', async () => {
    api.route(SEND_PATH, () => ({ status: 200, body: { errcode: 0, errmsg: 'ok', msgid: 'kf-sent-1' } }));
    const answer = await call('POST', `${gateway.url}/v1/messages`, {
      token: API_TOKEN,
      headers: { 'idempotency-key': 'send-1' },
      body: { channel: 'kf', to: CONVERSATION, text: 'hi there' },
    });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.platformMessageId, 'kf-sent-1');
    assert.deepEqual(bodyOf(api.requestsTo(SEND_PATH).at(-1)!), {
      touser: CUSTOMER,
      open_kfid: OPEN_KFID,
      // The adapter's key is derived from the API key's id, the channel and the client's key.
      msgid: kfMsgid(CONVERSATION, createHash('sha256').update('test:kf\nsend-1').digest('hex')),
      msgtype: 'text',
      text: { content: 'hi there' },
    });
  });

  it("answers 422 with a clear message when WeCom refuses a sixth message (95001)", async () => {
    api.route(SEND_PATH, () => ({ status: 200, body: { errcode: 95001, errmsg: 'send msg count limit' } }));
    const answer = await call('POST', `${gateway.url}/v1/messages`, {
      token: API_TOKEN,
      body: { channel: 'kf', to: CONVERSATION, text: 'one more' },
    });
    assert.equal(answer.status, 422);
    assert.equal(answer.json.error.code, 'IMG_ERR_PLATFORM_REJECTED');
    assert.equal(
      answer.json.error.message,
      "WeCom customer service allows at most 5 messages after the customer's last message; wait for the customer to write again (errcode 95001)",
    );
    assert.equal(answer.json.error.details.errcode, 95001);
  });

  it('logs neither the secret, a notice Token nor an access token', () => {
    const text = gateway.logText();
    assert.ok(text.includes('wecom-kf pulled messages'), 'the pulls are logged');
    for (const secret of [KF_SECRET, WECOM_KEYS.encodingAESKey, 'notice-token-1', 'notice-token-2', 'forged-token']) {
      assert.ok(!text.includes(secret), `${secret} appears in the log`);
    }
    assert.ok(!/token-\d+"/.test(text.replace(/notice-token-\d+/g, '')), 'an access token appears in the log');
  });
});

describe('wecom-kf cursor across a SIGKILL (the gateway as its own process)', () => {
  const api = new FakeWecomApi();
  const subscriber = new FakeHttpServer();
  const children: GatewayProcess[] = [];
  const dir = makeTempDir();

  before(async () => {
    await api.start();
    await subscriber.start();
  });

  after(async () => {
    for (const child of children) child.child.kill('SIGKILL');
    await api.stop();
    await subscriber.stop();
    removeDir(dir);
  });

  async function start(): Promise<GatewayProcess> {
    const gateway = await spawnGateway(dir, { channels: [kfChannel(api.url)], subscriptions: [subscription(subscriber.url)] });
    children.push(gateway);
    return gateway;
  }

  async function allDelivered(gateway: GatewayProcess, count: number): Promise<void> {
    await waitFor(async () => {
      const list = (await call('GET', `${gateway.url}/v1/deliveries`, { token: ADMIN_TOKEN })).json.data as any[];
      return list.length === count && list.every((delivery) => delivery.status === 'succeeded') ? true : undefined;
    }, 10_000, `${count} deliveries succeeded`);
  }

  it('resumes from the stored next_cursor after a kill between two pages: nothing replayed, nothing lost', async () => {
    // Page 1 is answered; page 2 is held until the gateway is dead, so the kill falls between the
    // commit of page 1 (its events with cursor c1) and page 2.
    const never = new Promise<void>(() => undefined);
    let killed = false;
    scriptSyncMsg(api, {
      '': { msg_list: [customerText('k1', 'first'), customerText('k2', 'second')], next_cursor: 'c1', has_more: 1 },
      c1: () => ({
        status: 200,
        body: { errcode: 0, errmsg: 'ok', next_cursor: 'c2', has_more: 0, msg_list: [customerText('k3', 'third')] },
        ...(killed ? {} : { wait: never }),
      }),
      c2: { msg_list: [], next_cursor: 'c2' },
    });

    const first = await start();
    assert.equal((await notify(first.url, 'before-kill')).status, 200);
    await waitFor(() => (syncRequests(api).length >= 2 ? true : undefined), 10_000, 'the request for page 2');
    await subscriber.waitForRequests(2);
    await allDelivered(first, 2);
    first.child.kill('SIGKILL');
    await first.exited;
    killed = true;

    const second = await start();
    assert.equal((await notify(second.url, 'after-kill')).status, 200);
    await subscriber.waitForRequests(3, 15_000);
    const afterRestart = syncRequests(api).slice(2);
    assert.deepEqual(afterRestart[0], { limit: 1000, open_kfid: OPEN_KFID, cursor: 'c1', token: 'after-kill' }, 'the restarted gateway starts at the stored next_cursor');

    // One more notice: the pull starts after page 2, which nothing replays.
    assert.equal((await notify(second.url, 'later')).status, 200);
    await waitFor(() => (syncRequests(api).some((body) => body.token === 'later') ? true : undefined), 10_000, 'the third pull');
    assert.equal(syncRequests(api).find((body) => body.token === 'later')!.cursor, 'c2');
    await allDelivered(second, 3);
    await sleep(300);
    assert.deepEqual(Object.fromEntries(receivedCounts(subscriber)), { k1: 1, k2: 1, k3: 1 });
    assert.deepEqual(
      syncRequests(api).map((body) => body.cursor ?? null),
      [null, 'c1', 'c1', 'c2'],
      'page 1 was never pulled again',
    );
    second.child.kill('SIGTERM');
    await second.exited;
  });
});
