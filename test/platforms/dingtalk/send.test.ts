import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { SendRequest } from '../../../src/platforms/_kit/adapter.ts';
import { normalizeDingtalkMessage } from '../../../src/platforms/dingtalk/normalize.ts';
import { markdownTitle, targetOf } from '../../../src/platforms/dingtalk/send.ts';
import { capturingLogger, testAdapterDeps } from '../../helpers/adapter-deps.ts';
import { failsWith } from '../../helpers/errors.ts';
import { FakeHttpServer } from '../../helpers/fake-http.ts';
import { APP_KEY, APP_SECRET, FakeDingtalkApi, GROUP_ID, SESSION, SINGLE_CHAT_ID, adapterFor, bodyOf, callbackBody, channel, stored, type BodyOptions } from './helpers.ts';

const GROUP_SEND = '/v1.0/robot/groupMessages/send';
const BATCH_SEND = '/v1.0/robot/oToMessages/batchSend';
const SESSION_PATH = '/robot/sendBySession';

function sendRequest(overrides: Partial<SendRequest>): SendRequest {
  return { to: 'zhangsan', mentions: [], replyTo: null, idempotencyKey: 'k-1', ...overrides };
}

describe('dingtalk send', () => {
  const api = new FakeDingtalkApi();
  const { logger, lines: logLines } = capturingLogger();
  let deps = testAdapterDeps(logger);
  const adapter = (overrides: Record<string, unknown> = {}) => adapterFor(channel({ apiBase: api.url, ...overrides }), deps);

  /** A reply to a received message: the stored event and its payload, as the send service passes them. */
  function replyTo(options: BodyOptions = {}): Pick<SendRequest, 'to' | 'replyTo' | 'replyToRaw'> {
    const body = callbackBody({ sessionWebhook: `${api.url}${SESSION_PATH}?session=${SESSION}`, ...options });
    const event = stored(normalizeDingtalkMessage(body, new Date()));
    return { to: event.conversation.id, replyTo: event, replyToRaw: body };
  }

  before(() => api.start());
  beforeEach(() => {
    deps = testAdapterDeps(logger);
  });
  after(() => api.stop());

  const last = (path: string) => api.requestsTo(path).at(-1)!;

  it('replies in a group through the sessionWebhook, mentioning the sender by staff id, with no token', async () => {
    const tokenCalls = api.tokenCalls;
    const result = await adapter().send!(sendRequest({ ...replyTo(), text: 'all green', mentions: ['lisi'] }));
    assert.deepEqual(result, { platformMessageId: null });
    const request = last(SESSION_PATH);
    assert.equal(new URL(request.url, 'http://x').searchParams.get('session'), SESSION);
    assert.deepEqual(bodyOf(request), { msgtype: 'text', text: { content: 'all green' }, at: { atUserIds: ['zhangsan', 'lisi'], isAtAll: false } });
    assert.equal(request.headers['x-acs-dingtalk-access-token'], undefined);
    assert.equal(api.tokenCalls, tokenCalls);
  });

  it('replies with markdown, titled by its first line', async () => {
    await adapter().send!(sendRequest({ ...replyTo(), markdown: '## Build **42**\n- green' }));
    assert.deepEqual(bodyOf(last(SESSION_PATH)), {
      msgtype: 'markdown',
      markdown: { title: 'Build 42', text: '## Build **42**\n- green' },
      at: { atUserIds: ['zhangsan'], isAtAll: false },
    });
  });

  it('mentions nobody unasked in a single-chat reply', async () => {
    await adapter().send!(sendRequest({ ...replyTo({ group: false }), text: 'hi' }));
    assert.deepEqual(bodyOf(last(SESSION_PATH)).at, { atUserIds: [], isAtAll: false });
  });

  it('falls back to groupMessages/send with the access token once the sessionWebhook expired', async () => {
    const sessions = api.requestsTo(SESSION_PATH).length;
    const result = await adapter().send!(sendRequest({ ...replyTo({ expiresAt: Date.now() - 1000 }), text: 'late answer' }));
    assert.equal(api.requestsTo(SESSION_PATH).length, sessions, 'the expired webhook was not tried');
    assert.match(result.platformMessageId ?? '', /^pqk-\d+$/);
    const request = last(GROUP_SEND);
    assert.match(String(request.headers['x-acs-dingtalk-access-token']), /^dt-token-\d+$/);
    assert.deepEqual(bodyOf(request), {
      robotCode: APP_KEY,
      openConversationId: GROUP_ID,
      msgKey: 'sampleText',
      msgParam: JSON.stringify({ content: 'late answer' }),
    });
  });

  it('falls back to the robot API when the sessionWebhook answers errcode 300001 (session gone early)', async () => {
    api.server.respondWith({ status: 200, body: { errcode: 300001, errmsg: 'session 不存在' } });
    const groupSends = api.requestsTo(GROUP_SEND).length;
    await adapter().send!(sendRequest({ ...replyTo(), markdown: '**done**' }));
    assert.equal(api.requestsTo(GROUP_SEND).length, groupSends + 1);
    assert.deepEqual(JSON.parse(bodyOf(last(GROUP_SEND)).msgParam), { title: 'done', text: '**done**' });
    assert.equal(bodyOf(last(GROUP_SEND)).msgKey, 'sampleMarkdown');
  });

  it('replies to a single chat after expiry through batchSend to the sender', async () => {
    await adapter().send!(sendRequest({ ...replyTo({ group: false, expiresAt: 1 }), text: 'later' }));
    assert.deepEqual(bodyOf(last(BATCH_SEND)).userIds, ['zhangsan']);
  });

  it('takes DingTalk\'s own conversationId of a single chat as the reply\'s conversation too', async () => {
    const reply = replyTo({ group: false, expiresAt: 1 });
    await adapter().send!(sendRequest({ ...reply, to: SINGLE_CHAT_ID, text: 'later' }));
    assert.deepEqual(bodyOf(last(BATCH_SEND)).userIds, ['zhangsan']);
  });

  it('sends to `to` when it names another conversation than the message replied to', async () => {
    const sessions = api.requestsTo(SESSION_PATH).length;
    await adapter().send!(sendRequest({ ...replyTo(), to: 'wangwu', text: 'fyi' }));
    assert.equal(api.requestsTo(SESSION_PATH).length, sessions);
    assert.deepEqual(bodyOf(last(BATCH_SEND)).userIds, ['wangwu']);
  });

  it('cannot answer an outsider\'s single chat once its sessionWebhook ended', async () => {
    await assert.rejects(
      adapter().send!(sendRequest({ ...replyTo({ group: false, expiresAt: 1, senderStaffId: null }), text: 'later' })),
      failsWith('IMG_ERR_SEND_UNSUPPORTED', (e) => assert.match(e.message, /outside the organization/)),
    );
  });

  it('does not post to a sessionWebhook that is not a sendBySession URL; the robot API answers instead', async () => {
    const hostile = api.requestsTo('/steal').length;
    await adapter().send!(sendRequest({ ...replyTo({ sessionWebhook: `${api.url}/steal?session=x` }), text: 'hi' }));
    assert.equal(api.requestsTo('/steal').length, hostile);
    assert.equal(bodyOf(last(GROUP_SEND)).openConversationId, GROUP_ID);
  });

  it('posts to a sessionWebhook only on DingTalk\'s host or the channel\'s apiBase, not to one a forged body names', async () => {
    const elsewhere = new FakeHttpServer(() => ({ status: 200, body: { errcode: 0, errmsg: 'ok' } }));
    await elsewhere.start();
    try {
      await adapter().send!(sendRequest({ ...replyTo({ sessionWebhook: `${elsewhere.url}/robot/sendBySession?session=stolen` }), text: 'hi' }));
      assert.equal(elsewhere.requests.length, 0, 'nothing went to the other host');
      assert.equal(bodyOf(last(GROUP_SEND)).openConversationId, GROUP_ID, 'the robot API answered instead');
    } finally {
      await elsewhere.stop();
    }
  });

  it('turns other sessionWebhook errcodes into errors: 130101 rate limited, others rejected', async () => {
    api.server.respondWith({ status: 200, body: { errcode: 130101, errmsg: 'send too fast' } });
    await assert.rejects(adapter().send!(sendRequest({ ...replyTo(), text: 'x' })), failsWith('IMG_ERR_PLATFORM_RATE_LIMITED', (e) => assert.equal(e.retryAfter, 60)));
    api.server.respondWith({ status: 200, body: { errcode: 400101, errmsg: `bad ${SESSION}` } });
    await assert.rejects(
      adapter().send!(sendRequest({ ...replyTo(), text: 'x' })),
      failsWith('IMG_ERR_PLATFORM_REJECTED', (e) => {
        assert.deepEqual(e.details, { errcode: 400101, errmsg: 'bad [redacted]' });
        assert.ok(!e.message.includes(SESSION));
      }),
    );
  });

  it('sends proactively to a member through batchSend, answering the processQueryKey', async () => {
    const result = await adapter().send!(sendRequest({ to: 'lisi', text: 'build failed' }));
    assert.match(result.platformMessageId ?? '', /^pqk-/);
    assert.deepEqual(bodyOf(last(BATCH_SEND)), { robotCode: APP_KEY, userIds: ['lisi'], msgKey: 'sampleText', msgParam: '{"content":"build failed"}' });
  });

  it('sends to the configured robotCode', async () => {
    await adapter({ robotCode: 'dingRobotCode77' }).send!(sendRequest({ to: GROUP_ID, text: 'x' }));
    assert.equal(bodyOf(last(GROUP_SEND)).robotCode, 'dingRobotCode77');
  });

  it('reads `to`: cid… is a group, anything else a staff id, and group:/user: say it outright', () => {
    assert.deepEqual(targetOf(GROUP_ID, null), { kind: 'group', openConversationId: GROUP_ID });
    assert.deepEqual(targetOf('manager4220', null), { kind: 'user', staffId: 'manager4220' });
    assert.deepEqual(targetOf('user:cidrick', null), { kind: 'user', staffId: 'cidrick' });
    assert.deepEqual(targetOf('group:openConv123', null), { kind: 'group', openConversationId: 'openConv123' });
    assert.throws(() => targetOf('user:', null), failsWith('IMG_ERR_VALIDATION'));
  });

  it('sends an image by URL as sampleImageMsg, also for a reply', async () => {
    const sessions = api.requestsTo(SESSION_PATH).length;
    await adapter().send!(sendRequest({ ...replyTo(), image: { url: 'https://example.com/chart.png' } }));
    assert.equal(api.requestsTo(SESSION_PATH).length, sessions, 'a sessionWebhook takes no image');
    assert.deepEqual(bodyOf(last(GROUP_SEND)), {
      robotCode: APP_KEY,
      openConversationId: GROUP_ID,
      msgKey: 'sampleImageMsg',
      msgParam: '{"photoURL":"https://example.com/chart.png"}',
    });
  });

  it('refuses image.base64, mentions outside a live reply, and mixed messages before calling DingTalk', async () => {
    const before = api.server.requests.length;
    await assert.rejects(adapter().send!(sendRequest({ image: { base64: 'iVBORw0KGgo=' } })), failsWith('IMG_ERR_SEND_UNSUPPORTED', (e) => assert.match(e.message, /image\.url/)));
    await assert.rejects(adapter().send!(sendRequest({ text: 'hi', mentions: ['lisi'] })), failsWith('IMG_ERR_SEND_UNSUPPORTED', (e) => assert.match(e.message, /mention/)));
    await assert.rejects(adapter().send!(sendRequest({ text: 'a', markdown: 'b' })), failsWith('IMG_ERR_SEND_UNSUPPORTED'));
    await assert.rejects(adapter().send!(sendRequest({})), failsWith('IMG_ERR_VALIDATION'));
    await assert.rejects(adapter().send!(sendRequest({ image: { url: 'ftp://example.com/x.png' } })), failsWith('IMG_ERR_VALIDATION'));
    assert.equal(api.server.requests.length, before);
  });

  it('fetches one token for 20 concurrent sends', async () => {
    const before = api.tokenCalls;
    const sender = adapter();
    await Promise.all(Array.from({ length: 20 }, (_, i) => sender.send!(sendRequest({ to: `user${i}`, text: `n${i}` }))));
    assert.equal(api.tokenCalls, before + 1);
  });

  it('fetches the token again once when DingTalk answers InvalidAuthentication, and the send succeeds', async () => {
    const sender = adapter();
    await sender.send!(sendRequest({ text: 'warm' }));
    const stale = String(last(BATCH_SEND).headers['x-acs-dingtalk-access-token']);
    api.revoked.add(stale);
    const before = api.tokenCalls;
    const result = await sender.send!(sendRequest({ text: 'again' }));
    assert.match(result.platformMessageId ?? '', /^pqk-/);
    assert.equal(api.tokenCalls, before + 1);
    assert.notEqual(last(BATCH_SEND).headers['x-acs-dingtalk-access-token'], stale);
  });

  it('gives up after one re-fetch, with DingTalk\'s code in the error', async () => {
    api.route(GROUP_SEND, () => ({ status: 400, body: { code: 'InvalidAuthentication', message: '不合法的access_token', requestid: 'r-1' } }));
    try {
      const before = api.tokenCalls;
      await assert.rejects(
        adapter().send!(sendRequest({ to: GROUP_ID, text: 'x' })),
        failsWith('IMG_ERR_PLATFORM_REJECTED', (e) => assert.deepEqual(e.details, { httpStatus: 400, code: 'InvalidAuthentication', message: '不合法的access_token', requestId: 'r-1' })),
      );
      // A fresh token service: the first fetch, then the one re-fetch, and no more.
      assert.equal(api.tokenCalls, before + 2);
    } finally {
      api.route(GROUP_SEND, () => ({ status: 200, body: { processQueryKey: 'pqk-g' } }));
    }
  });

  it('maps throttling to IMG_ERR_PLATFORM_RATE_LIMITED: 403 QpsLimit codes and HTTP 429', async () => {
    const sender = adapter();
    await sender.send!(sendRequest({ text: 'warm' }));
    api.server.respondWith({ status: 403, body: { code: 'Forbidden.AccessDenied.QpsLimitForApi', message: '请求过于频繁' } });
    await assert.rejects(sender.send!(sendRequest({ text: 'x' })), failsWith('IMG_ERR_PLATFORM_RATE_LIMITED', (e) => assert.equal(e.retryAfter, 1)));
    api.server.respondWith({ status: 429, headers: { 'retry-after': '3' }, body: { code: 'Throttling.Api', message: 'slow down' } });
    await assert.rejects(sender.send!(sendRequest({ text: 'x' })), failsWith('IMG_ERR_PLATFORM_RATE_LIMITED', (e) => assert.equal(e.retryAfter, 3)));
  });

  it('turns other API errors into IMG_ERR_PLATFORM_REJECTED with DingTalk\'s code and message', async () => {
    const sender = adapter();
    await sender.send!(sendRequest({ text: 'warm' }));
    api.server.respondWith({ status: 400, body: { code: 'param.invalid', message: 'openConversationId is invalid', requestid: 'r-2' } });
    await assert.rejects(
      sender.send!(sendRequest({ to: 'cidNoSuchGroup', text: 'x' })),
      failsWith('IMG_ERR_PLATFORM_REJECTED', (e) => {
        assert.equal(e.status, 422);
        assert.deepEqual(e.details, { httpStatus: 400, code: 'param.invalid', message: 'openConversationId is invalid', requestId: 'r-2' });
      }),
    );
    api.server.respondWith({ status: 403, body: { code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied', message: 'no permission' } });
    await assert.rejects(sender.send!(sendRequest({ text: 'x' })), failsWith('IMG_ERR_PLATFORM_REJECTED', (e) => assert.match(e.message, /permission/)));
  });

  it('refuses a staff id batchSend lists as invalid, and rate-limits a flow-controlled one', async () => {
    const sender = adapter();
    await sender.send!(sendRequest({ text: 'warm' }));
    api.server.respondWith({ status: 200, body: { processQueryKey: 'pqk-x', invalidStaffIdList: ['ghost'], flowControlledStaffIdList: [] } });
    await assert.rejects(sender.send!(sendRequest({ to: 'ghost', text: 'x' })), failsWith('IMG_ERR_PLATFORM_REJECTED', (e) => assert.match(e.message, /staff id/)));
    api.server.respondWith({ status: 200, body: { processQueryKey: 'pqk-y', invalidStaffIdList: [], flowControlledStaffIdList: ['busy'] } });
    await assert.rejects(sender.send!(sendRequest({ to: 'busy', text: 'x' })), failsWith('IMG_ERR_PLATFORM_RATE_LIMITED'));
  });

  it('takes tokens from tokenUrl, posting appKey and appSecret, in either answer shape', async () => {
    const tokenService = new FakeDingtalkApi();
    await tokenService.start();
    try {
      tokenService.route('/tokens', () => ({ status: 200, body: { errcode: 0, access_token: 'shared-token', expires_in: 7200 } }));
      api.issued.add('shared-token');
      await adapter({ tokenUrl: `${tokenService.url}/tokens` }).send!(sendRequest({ text: 'via service' }));
      assert.deepEqual(bodyOf(tokenService.requestsTo('/tokens')[0]!), { appKey: APP_KEY, appSecret: APP_SECRET });
      assert.equal(last(BATCH_SEND).headers['x-acs-dingtalk-access-token'], 'shared-token');
    } finally {
      await tokenService.stop();
    }
  });

  it('refuses a wrong appSecret at the token endpoint without repeating the secret', async () => {
    await assert.rejects(
      adapter({ appSecret: 'wrong-secret-value' }).send!(sendRequest({ text: 'x' })),
      failsWith('IMG_ERR_PLATFORM_REJECTED', (e) => {
        assert.equal(e.details?.code, 'invalidClientSecret');
        assert.ok(!JSON.stringify(e.details).includes('wrong-secret-value'));
      }),
    );
  });

  it('never logs the appSecret, a token or the session', () => {
    const text = logLines.join('');
    assert.ok(text.includes('fetched an access token'), 'token fetches were logged');
    assert.ok(!text.includes(APP_SECRET));
    assert.ok(!/dt-token-\d/.test(text));
    assert.ok(!text.includes(SESSION));
  });
});

describe('markdownTitle', () => {
  it('takes the first line with text, without markdown marks, at most 64 characters', () => {
    assert.equal(markdownTitle('\n\n# Release *1.2*\nbody'), 'Release 1.2');
    assert.equal(markdownTitle('> quoted `code`'), 'quoted code');
    assert.equal(markdownTitle('x'.repeat(100)).length, 64);
    assert.equal(markdownTitle('   '), 'Message');
  });
});
