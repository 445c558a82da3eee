import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { wecomCredential } from '../../../src/platforms/_kit/wecom-api.ts';
import { KfPuller } from '../../../src/platforms/wecom-kf/pull.ts';
import { CursorMovedError } from '../../../src/store/store.ts';
import { capturingLogger, testAdapterDeps, type TestAdapterDeps } from '../../helpers/adapter-deps.ts';
import { FakeWecomApi } from '../../helpers/wecom.ts';
import { KF_SECRET, OPEN_KFID, channel, customerText, scriptSyncMsg, servicerText, syncRequests, systemEvent, until } from './helpers.ts';

describe('wecom-kf pull (kf/sync_msg)', () => {
  const api = new FakeWecomApi();
  const { logger, lines: logLines } = capturingLogger();
  let deps: TestAdapterDeps;
  let puller: KfPuller;

  before(() => api.start());
  after(() => api.stop());
  beforeEach(() => {
    api.server.requests.length = 0;
    deps = testAdapterDeps(logger);
    puller = new KfPuller({ credential: wecomCredential(channel({ apiBase: api.url })), deps });
  });

  it('follows has_more, storing each page with its next_cursor in one sink call, even an empty page', async () => {
    scriptSyncMsg(api, {
      '': { msg_list: [customerText('a1', 'one')], next_cursor: 'c1', has_more: 1 },
      c1: { msg_list: [], next_cursor: 'c2', has_more: 1 },
      c2: { msg_list: [servicerText('a2', 'two'), systemEvent('a3', { event_type: 'enter_session' })], next_cursor: 'c3', has_more: 0 },
    });
    await puller.request(OPEN_KFID, 'notice-token-1', 'callback');

    assert.deepEqual(syncRequests(api), [
      { limit: 1000, open_kfid: OPEN_KFID, token: 'notice-token-1' },
      { limit: 1000, open_kfid: OPEN_KFID, token: 'notice-token-1', cursor: 'c1' },
      { limit: 1000, open_kfid: OPEN_KFID, token: 'notice-token-1', cursor: 'c2' },
    ]);
    assert.deepEqual(
      deps.sinkCalls.map((call) => [call.events.map((event) => event.dedupKey), call.options?.cursor]),
      [
        [['a1'], { key: OPEN_KFID, value: 'c1', expected: null }],
        [[], { key: OPEN_KFID, value: 'c2', expected: 'c1' }],
        [['a2', 'a3'], { key: OPEN_KFID, value: 'c3', expected: 'c2' }],
      ],
    );
    const [a2, a3] = deps.sinkCalls[2]!.events.map((event) => JSON.parse(event.rawBody?.toString('utf8') ?? 'null'));
    assert.equal(a2.msgid, 'a2', 'each event keeps its own msg_list entry, not the whole page');
    assert.equal(a3.msgid, 'a3');
  });

  it('goes on from the cursor another node stored when its own page was refused, storing nothing twice and skipping nothing', async () => {
    scriptSyncMsg(api, {
      '': { msg_list: [customerText('m1', 'one')], next_cursor: 'c1', has_more: 0 },
      c1: { msg_list: [customerText('m2', 'two')], next_cursor: 'c2', has_more: 0 },
    });
    // The store refuses the first page: a pull on another node stored m1 and moved the cursor to c1
    // between this pull's read and its write.
    const store = deps.sink.ingest;
    let refused = false;
    deps.sink.ingest = async (events, rawBody, options) => {
      if (!refused && options?.cursor?.expected === null) {
        refused = true;
        deps.cursors.values.set(OPEN_KFID, 'c1');
        throw new CursorMovedError('kf', OPEN_KFID);
      }
      return store(events, rawBody, options);
    };
    await puller.request(OPEN_KFID, 'notice-token-1', 'callback');

    assert.deepEqual(
      syncRequests(api).map((request) => request.cursor ?? ''),
      ['', 'c1'],
    );
    assert.deepEqual(
      deps.sinkCalls.map((call) => [call.events.map((event) => event.dedupKey), call.options?.cursor]),
      [[['m2'], { key: OPEN_KFID, value: 'c2', expected: 'c1' }]],
    );
    assert.equal(deps.cursors.values.get(OPEN_KFID), 'c2');
  });

  it('starts from the stored cursor of that account', async () => {
    deps.cursors.values.set(OPEN_KFID, 'stored-cursor');
    deps.cursors.values.set('wkOtherAccount', 'other-cursor');
    scriptSyncMsg(api, { 'stored-cursor': { msg_list: [customerText('b1', 'x')], next_cursor: 'next' } });
    await puller.request(OPEN_KFID, null, 'poll');
    assert.deepEqual(syncRequests(api), [{ limit: 1000, open_kfid: OPEN_KFID, cursor: 'stored-cursor' }]);
    assert.equal(deps.cursors.values.get(OPEN_KFID), 'next');
    assert.equal(deps.cursors.values.get('wkOtherAccount'), 'other-cursor');
  });

  it('pulls without the token when WeCom says it expired (95007)', async () => {
    scriptSyncMsg(api, {
      '': (body) =>
        body.token
          ? { status: 200, body: { errcode: 95007, errmsg: 'invalid msg token' } }
          : { status: 200, body: { errcode: 0, errmsg: 'ok', next_cursor: 'c1', has_more: 0, msg_list: [customerText('e1', 'x')] } },
    });
    await puller.request(OPEN_KFID, 'stale-token', 'callback');
    assert.deepEqual(
      syncRequests(api).map((body) => body.token ?? null),
      ['stale-token', null],
    );
    assert.equal(deps.cursors.values.get(OPEN_KFID), 'c1');
  });

  it('keeps the cursor of the last stored page when a later page fails, and resumes there', async () => {
    let failing = true;
    scriptSyncMsg(api, {
      '': { msg_list: [customerText('f1', 'x')], next_cursor: 'c1', has_more: 1 },
      c1: () =>
        failing
          ? { status: 503, body: 'busy' }
          : { status: 200, body: { errcode: 0, errmsg: 'ok', next_cursor: 'c2', has_more: 0, msg_list: [customerText('f2', 'y')] } },
    });
    const from = logLines.length;
    await puller.request(OPEN_KFID, null, 'callback');
    assert.equal(deps.cursors.values.get(OPEN_KFID), 'c1');
    await puller.request(OPEN_KFID, null, 'poll');

    failing = false;
    await puller.request(OPEN_KFID, null, 'callback');
    assert.deepEqual(syncRequests(api).map((body) => body.cursor ?? null), [null, 'c1', 'c1', 'c1']);
    // WeCom out of reach is one warning (no stack) however many pulls fail, and its end one line.
    const outage = logLines
      .slice(from)
      .map((line) => JSON.parse(line) as { level: number; msg: string; err?: unknown })
      .filter((line) => line.msg.includes('unreachable') || line.msg.includes('reachable again'));
    assert.deepEqual(
      outage.map((line) => [line.level, line.msg.replace(/http:\/\/127\.0\.0\.1:\d+/, 'API')]),
      [
        [40, 'wecom-kf pull unreachable: POST API/cgi-bin/kf/sync_msg answered HTTP 503; retrying'],
        [20, 'wecom-kf pull still unreachable: POST API/cgi-bin/kf/sync_msg answered HTTP 503'],
        [30, 'wecom-kf pull reachable again after 2 failed attempts'],
      ],
    );
    assert.ok(outage.every((line) => line.err === undefined));
    assert.deepEqual(
      deps.sinkCalls.flatMap((call) => call.events.map((event) => event.dedupKey)),
      ['f1', 'f2'],
    );
    assert.equal(deps.cursors.values.get(OPEN_KFID), 'c2');
  });

  it('never runs two pulls of one account at once; notices during a pull queue exactly one more, with the newest token', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    scriptSyncMsg(api, {
      '': { msg_list: [customerText('s1', 'x')], next_cursor: 'c1', wait: held },
      c1: { msg_list: [customerText('s2', 'y')], next_cursor: 'c2' },
    });
    const first = puller.request(OPEN_KFID, 'token-a', 'callback');
    await until(() => syncRequests(api).length === 1, 'the first sync_msg');
    void puller.request(OPEN_KFID, 'token-b', 'callback');
    void puller.request(OPEN_KFID, 'token-c', 'callback');
    void puller.request(OPEN_KFID, null, 'poll');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(syncRequests(api).length, 1, 'nothing else is pulled while the first pull runs');

    release();
    await first;
    assert.deepEqual(
      syncRequests(api).map((body) => [body.cursor ?? null, body.token]),
      [
        [null, 'token-a'],
        ['c1', 'token-c'],
      ],
    );
    assert.deepEqual(
      deps.sinkCalls.flatMap((call) => call.events.map((event) => event.dedupKey)),
      ['s1', 's2'],
    );
  });

  it('pulls different accounts independently', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    api.route('/cgi-bin/kf/sync_msg', (recorded) => {
      const body = JSON.parse(recorded.body.toString('utf8'));
      const page = { status: 200, body: { errcode: 0, errmsg: 'ok', next_cursor: `${body.open_kfid}-c1`, has_more: 0, msg_list: [] } };
      return body.open_kfid === 'wkSlow' ? { ...page, wait: held } : page;
    });
    const slow = puller.request('wkSlow', null, 'callback');
    await puller.request('wkFast', null, 'callback');
    assert.equal(deps.cursors.values.get('wkFast'), 'wkFast-c1');
    release();
    await slow;
    assert.equal(deps.cursors.values.get('wkSlow'), 'wkSlow-c1');
  });

  it('stops a pull whose page has not come back without storing it, starts none while stopping, and pulls again once stopped', async () => {
    const never = new Promise<void>(() => undefined);
    scriptSyncMsg(api, {
      '': { msg_list: [customerText('t1', 'x')], next_cursor: 'c1', has_more: 1 },
      c1: { msg_list: [customerText('t2', 'y')], next_cursor: 'c2', wait: never },
    });
    const running = puller.request(OPEN_KFID, null, 'callback');
    await until(() => syncRequests(api).length === 2, 'the second page in flight');
    // The page never comes back: these resolve only because stopping does not wait for WeCom.
    const stopping = puller.stop();
    await puller.request(OPEN_KFID, null, 'callback');
    await stopping;
    await running;
    assert.equal(deps.cursors.values.get(OPEN_KFID), 'c1', 'the first page stays stored, the second was never');
    assert.equal(syncRequests(api).length, 2, 'nothing started while stopping');
    // Stopped is not dead: the poller stops it when this node loses its lease, and notices still come here.
    scriptSyncMsg(api, { c1: { msg_list: [customerText('t2', 'y')], next_cursor: 'c2' } });
    await puller.request(OPEN_KFID, 'after-stop', 'callback');
    assert.equal(deps.cursors.values.get(OPEN_KFID), 'c2');
  });

  it('stops a pull that says has_more without moving the cursor', async () => {
    scriptSyncMsg(api, { '': { msg_list: [], next_cursor: 'stuck', has_more: 1 }, stuck: { msg_list: [], next_cursor: 'stuck', has_more: 1 } });
    await puller.request(OPEN_KFID, null, 'poll');
    assert.equal(syncRequests(api).length, 2);
    assert.ok(logLines.some((line) => line.includes('has_more without a new cursor')));
  });

  it('logs neither the secret, the access token nor the notice token', () => {
    const text = logLines.join('');
    for (const secret of [KF_SECRET, 'token-a', 'token-b', 'token-c', 'notice-token-1', 'stale-token']) {
      assert.ok(!text.includes(secret), `${secret} appears in the log`);
    }
    assert.ok(!/"token-\d+"/.test(text), 'an access token appears in the log');
  });
});
