import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ImgateError } from '../../../src/core/errors.ts';
import type { ChannelAdapter } from '../../../src/platforms/_kit/adapter.ts';
import { WECOM_ACK } from '../../../src/platforms/_kit/wecom-callback.ts';
import { createWecomKfAdapter, wecomKf } from '../../../src/platforms/wecom-kf/index.ts';
import { testAdapterDeps, type TestAdapterDeps } from '../../helpers/adapter-deps.ts';
import { FakeWecomApi, WECOM_KEYS, wecomCallback, wecomPost, wecomRequest, wecomUrlCheck } from '../../helpers/wecom.ts';
import { OPEN_KFID, channel, customerText, kfNotice, scriptSyncMsg, syncRequests, until } from './helpers.ts';

describe('wecom-kf callbacks', () => {
  const api = new FakeWecomApi();
  let deps: TestAdapterDeps;
  let adapter: ChannelAdapter;

  before(() => api.start());
  after(() => api.stop());
  beforeEach(() => {
    api.server.requests.length = 0;
    deps = testAdapterDeps();
    adapter = wecomKf.create(channel({ apiBase: api.url }), deps);
    scriptSyncMsg(api, { '': { msg_list: [customerText('m1', 'hi')], next_cursor: 'c1' } });
  });

  it('answers the URL check with the decrypted echostr', async () => {
    const reply = await adapter.handleCallback(wecomRequest({ method: 'GET', rawQuery: wecomUrlCheck('echo-1234') }));
    assert.deepEqual(reply, { kind: 'reply', reply: { status: 200, contentType: 'text/plain; charset=utf-8', body: 'echo-1234' } });
  });

  it('answers kf_msg_or_event with success at once, storing nothing itself, and pulls with its Token', async () => {
    const outcome = await adapter.handleCallback(wecomPost(kfNotice('notice-token')));
    assert.deepEqual(outcome, { kind: 'reply', reply: WECOM_ACK });
    assert.equal(deps.sinkCalls.length, 0, 'the answer does not wait for the pull');
    await until(() => deps.sinkCalls.length === 1, 'the pulled page');
    assert.deepEqual(syncRequests(api), [{ limit: 1000, open_kfid: OPEN_KFID, token: 'notice-token' }]);
    assert.deepEqual(deps.sinkCalls[0]!.options, { cursor: { key: OPEN_KFID, value: 'c1', expected: null } });
  });

  it('acknowledges other events without storing or pulling', async () => {
    const inner = `<xml><ToUserName><![CDATA[${WECOM_KEYS.corpId}]]></ToUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_account_auth_change]]></Event></xml>`;
    const outcome = await adapter.handleCallback(wecomPost(inner));
    assert.deepEqual(outcome, { kind: 'reply', reply: WECOM_ACK });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(api.requestsTo('/cgi-bin/kf/sync_msg').length, 0);
    assert.equal(deps.sinkCalls.length, 0);
  });

  it('refuses a bad signature with 401 and pulls nothing', async () => {
    const forged = wecomPost(kfNotice('forged-token'), { token: 'not-the-channel-token' });
    await assert.rejects(
      async () => adapter.handleCallback(forged),
      (error: unknown) => error instanceof ImgateError && error.code === 'IMG_ERR_INBOUND_BAD_SIGNATURE' && error.status === 401,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(api.server.requests.length, 0);
  });

  it("refuses a notice encrypted for another corp", async () => {
    const callback = wecomCallback(kfNotice('other-corp'), { receiveId: 'ww_other_corp' });
    await assert.rejects(async () =>
      adapter.handleCallback(wecomRequest({ rawQuery: callback.query, rawBody: Buffer.from(callback.body) })),
    );
  });

  it('acknowledges a notice for an account a puppet owns and pulls nothing', async () => {
    deps.handedOffKeys.add(OPEN_KFID);
    const outcome = await adapter.handleCallback(wecomPost(kfNotice('owned-token')));
    assert.deepEqual(outcome, { kind: 'reply', reply: WECOM_ACK });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(api.requestsTo('/cgi-bin/kf/sync_msg').length, 0);
    assert.equal(deps.sinkCalls.length, 0);
  });

  it('pulls an account on request from the manager routes, in the background', async () => {
    assert.ok(adapter.pullKfAccount);
    assert.equal(adapter.pullKfAccount(OPEN_KFID, 'manager-token'), undefined);
    await until(() => deps.sinkCalls.length === 1, 'the pulled page');
    assert.equal(syncRequests(api)[0]!.token, 'manager-token');
  });
});

describe('wecom-kf polling (runPoller)', () => {
  const api = new FakeWecomApi();
  before(() => api.start());
  after(() => api.stop());
  beforeEach(() => {
    api.server.requests.length = 0;
  });

  it('polls the accounts it pulled before (a stored cursor) from the start, before any notice', async () => {
    const deps = testAdapterDeps();
    deps.cursors.values.set('wkEarlier', 'cursor-from-before');
    scriptSyncMsg(api, {});
    const adapter = createWecomKfAdapter(channel({ apiBase: api.url, openKfIds: [], pollIntervalSeconds: 60 }), deps);
    const controller = new AbortController();
    const running = adapter.runPoller!(controller.signal);
    await until(() => syncRequests(api).length === 1, 'the first round');
    assert.deepEqual(syncRequests(api)[0], { limit: 1000, open_kfid: 'wkEarlier', cursor: 'cursor-from-before' });
    controller.abort();
    await running;
  });

  it('pulls the configured accounts at once and every pollIntervalSeconds, without a token, then stops promptly', async () => {
    const deps = testAdapterDeps();
    scriptSyncMsg(api, {});
    const adapter = createWecomKfAdapter(channel({ apiBase: api.url, openKfIds: ['wkA', 'wkB'], pollIntervalSeconds: 1 }), deps);
    const controller = new AbortController();
    const running = adapter.runPoller!(controller.signal);
    await until(() => syncRequests(api).length === 2, 'the first round');
    assert.deepEqual(
      syncRequests(api).map((body) => [body.open_kfid, body.token ?? null]),
      [
        ['wkA', null],
        ['wkB', null],
      ],
    );
    // An account named by a notice joins the rounds.
    await adapter.handleCallback(wecomPost(kfNotice('notice-token', 'wkC')));
    await until(() => syncRequests(api).length >= 6, 'the second round', 4000);
    assert.deepEqual(
      syncRequests(api).slice(3, 6).map((body) => [body.open_kfid, body.token ?? null]),
      [
        ['wkA', null],
        ['wkB', null],
        ['wkC', null],
      ],
    );
    controller.abort();
    await running;
    const seen = syncRequests(api).length;
    await new Promise((resolve) => setTimeout(resolve, 1200));
    assert.equal(syncRequests(api).length, seen, 'no pull after stopping');
  });

  it('skips an account while a puppet owns it and polls it again once the puppet lets go', async () => {
    const deps = testAdapterDeps();
    deps.handedOffKeys.add('wkOwned');
    scriptSyncMsg(api, {});
    const adapter = createWecomKfAdapter(channel({ apiBase: api.url, openKfIds: ['wkOwned', 'wkFree'], pollIntervalSeconds: 1 }), deps);
    const controller = new AbortController();
    const running = adapter.runPoller!(controller.signal);
    await until(() => syncRequests(api).length === 1, 'the first round');
    assert.deepEqual(syncRequests(api).map((body) => body.open_kfid), ['wkFree']);
    deps.handedOffKeys.delete('wkOwned');
    await until(() => syncRequests(api).length >= 3, 'the second round', 4000);
    assert.deepEqual(syncRequests(api).slice(1, 3).map((body) => body.open_kfid), ['wkOwned', 'wkFree']);
    controller.abort();
    await running;
  });

  it('still pulls on notices, and polls again, after its poller was stopped (a lease lost, then taken back)', async () => {
    const deps = testAdapterDeps();
    scriptSyncMsg(api, {});
    const adapter = createWecomKfAdapter(channel({ apiBase: api.url, openKfIds: ['wkA'], pollIntervalSeconds: 60 }), deps);
    const first = new AbortController();
    const running = adapter.runPoller!(first.signal);
    await until(() => syncRequests(api).length === 1, 'the first poll');
    first.abort();
    await running;
    await adapter.handleCallback(wecomPost(kfNotice('after-stop', 'wkA')));
    await until(() => syncRequests(api).length === 2, 'the pull the notice asks for');
    assert.equal(syncRequests(api)[1]!.token, 'after-stop');
    const second = new AbortController();
    const again = adapter.runPoller!(second.signal);
    await until(() => syncRequests(api).length === 3, 'the poll once the lease is back');
    second.abort();
    await again;
  });

  it('does not poll with pollIntervalSeconds 0, and still resolves when stopped', async () => {
    const adapter = createWecomKfAdapter(channel({ apiBase: api.url, openKfIds: ['wkA'], pollIntervalSeconds: 0 }), testAdapterDeps());
    const controller = new AbortController();
    const running = adapter.runPoller!(controller.signal);
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    await running;
    assert.equal(syncRequests(api).length, 0);
  });

  it('lets a page being stored finish before it stops', async () => {
    const deps = testAdapterDeps();
    let releaseCommit: () => void = () => undefined;
    const commitHeld = new Promise<void>((resolve) => (releaseCommit = resolve));
    const ingest = deps.sink.ingest;
    deps.sink.ingest = async (events, rawBody, options) => {
      await commitHeld;
      return ingest(events, rawBody, options);
    };
    scriptSyncMsg(api, {
      '': { msg_list: [customerText('p1', 'x')], next_cursor: 'c1', has_more: 1 },
      c1: { msg_list: [customerText('p2', 'y')], next_cursor: 'c2' },
    });
    const adapter = createWecomKfAdapter(channel({ apiBase: api.url, openKfIds: [OPEN_KFID], pollIntervalSeconds: 60 }), deps);
    const controller = new AbortController();
    const running = adapter.runPoller!(controller.signal);
    await until(() => syncRequests(api).length === 1, 'the first page');
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    let stopped = false;
    void running.then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(stopped, false, 'waits for the commit under way');
    releaseCommit();
    await running;
    assert.equal(deps.cursors.values.get(OPEN_KFID), 'c1');
    assert.equal(syncRequests(api).length, 1, 'no page after the stop');
  });
});
