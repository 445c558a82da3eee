import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { UnifiedEvent } from '../../../src/core/event.ts';
import type { ChannelAdapter, SendRequest } from '../../../src/platforms/_kit/adapter.ts';
import { normalizeQqDispatch } from '../../../src/platforms/qq/normalize.ts';
import { capturingLogger, testAdapterDeps } from '../../helpers/adapter-deps.ts';
import { rejection } from '../../helpers/errors.ts';
import {
  CHANNEL_ID,
  DM_GUILD_ID,
  FakeQqApi,
  GROUP_OPENID,
  SECRET,
  TOKEN_PREFIX,
  USER_OPENID,
  adapterFor,
  bodyOf,
  channel,
  dispatch,
  stored,
  type MessageEventType,
} from './helpers.ts';

const TOKEN_PATH = `${TOKEN_PREFIX}/app/getAppAccessToken`;
const USER_MESSAGES = `/v2/users/${USER_OPENID}/messages`;
const USER_FILES = `/v2/users/${USER_OPENID}/files`;
const GROUP_MESSAGES = `/v2/groups/${GROUP_OPENID}/messages`;
const GROUP_FILES = `/v2/groups/${GROUP_OPENID}/files`;
const CHANNEL_MESSAGES = `/channels/${CHANNEL_ID}/messages`;
const DM_MESSAGES = `/dms/${DM_GUILD_ID}/messages`;
const MINUTE = 60_000;

let keys = 0;
function sendRequest(overrides: Partial<SendRequest>): SendRequest {
  keys += 1;
  return { to: `user:${USER_OPENID}`, mentions: [], replyTo: null, idempotencyKey: `key-${keys}`, ...overrides };
}

/** A received message as the store hands it to `send`, sent `ageMinutes` before `now`. */
function received(eventType: MessageEventType, now: number, ageMinutes = 0, d: Record<string, unknown> = {}): UnifiedEvent {
  const event = normalizeQqDispatch(dispatch(eventType, { timestamp: new Date(now - ageMinutes * MINUTE).toISOString(), ...d }), new Date(now));
  assert.ok(event !== null);
  return stored(event);
}

function replyTo(event: UnifiedEvent): Pick<SendRequest, 'to' | 'replyTo'> {
  return { to: event.conversation.id, replyTo: event };
}

describe('qq send', () => {
  const api = new FakeQqApi();
  let now = Date.parse('2026-11-23T09:00:00.000Z');
  const clock = () => now;
  const { logger, lines: logLines } = capturingLogger();
  const deps = testAdapterDeps(logger);
  const config = () => channel({ apiBase: api.url, tokenBase: `${api.url}${TOKEN_PREFIX}` });
  let adapter: ChannelAdapter;
  const last = (path: string) => bodyOf(api.requestsTo(path).at(-1)!);

  before(async () => {
    await api.start();
    adapter = adapterFor(config(), deps, clock);
  });
  after(() => api.stop());

  it('replies to a C2C message with its msg_id and msg_seq 1, 2, 3, with a QQBot token fetched once', async () => {
    const message = received('C2C_MESSAGE_CREATE', now);
    for (const seq of [1, 2, 3]) {
      const result = await adapter.send!(sendRequest({ ...replyTo(message), text: `answer ${seq}` }));
      assert.match(result.platformMessageId ?? '', /^qq-msg-\d+$/);
      assert.deepEqual(last(USER_MESSAGES), { msg_type: 0, content: `answer ${seq}`, msg_id: message.message.platformId, msg_seq: seq });
    }
    assert.equal(api.tokenCalls, 1);
    assert.deepEqual(bodyOf(api.requestsTo(TOKEN_PATH)[0]!), { appId: '102000001', clientSecret: SECRET });
    assert.match(String(api.requestsTo(USER_MESSAGES).at(-1)!.headers.authorization), /^QQBot qq-token-\d+$/);
  });

  it('refuses a 6th reply to one message with 422 naming the rule, before calling QQ', async () => {
    const message = received('GROUP_AT_MESSAGE_CREATE', now);
    for (let i = 1; i <= 5; i += 1) await adapter.send!(sendRequest({ ...replyTo(message), text: `r${i}` }));
    const calls = api.requestsTo(GROUP_MESSAGES).length;
    const error = await rejection(adapter.send!(sendRequest({ ...replyTo(message), text: 'r6' })));
    assert.equal(error.code, 'IMG_ERR_REPLY_WINDOW_CLOSED');
    assert.equal(error.status, 422);
    assert.match(error.message, /at most 5 replies to a group message/);
    assert.deepEqual(error.details, { rule: 'reply-count', maxReplies: 5 });
    assert.equal(api.requestsTo(GROUP_MESSAGES).length, calls, 'QQ was not called');
  });

  it('takes group replies for 5 minutes and C2C replies for 60, then refuses them naming the rule', async () => {
    const fresh = received('GROUP_AT_MESSAGE_CREATE', now, 4.9);
    await adapter.send!(sendRequest({ ...replyTo(fresh), text: 'in time' }));
    const late = received('GROUP_AT_MESSAGE_CREATE', now, 5.1);
    const calls = api.requestsTo(GROUP_MESSAGES).length;
    const error = await rejection(adapter.send!(sendRequest({ ...replyTo(late), text: 'too late' })));
    assert.equal(error.code, 'IMG_ERR_REPLY_WINDOW_CLOSED');
    assert.match(error.message, /QQ takes replies to a group message for 5 minutes after it was sent/);
    assert.equal(error.details?.rule, 'reply-window');
    assert.equal(error.details?.windowMinutes, 5);
    assert.equal(api.requestsTo(GROUP_MESSAGES).length, calls);

    await adapter.send!(sendRequest({ ...replyTo(received('C2C_MESSAGE_CREATE', now, 59)), text: 'in time' }));
    const direct = await rejection(adapter.send!(sendRequest({ ...replyTo(received('C2C_MESSAGE_CREATE', now, 61)), text: 'too late' })));
    assert.equal(direct.code, 'IMG_ERR_REPLY_WINDOW_CLOSED');
    assert.match(direct.message, /C2C \(direct\) message for 60 minutes/);
  });

  it('measures the window with the injected clock: the same message is refused once time has passed', async () => {
    const message = received('GROUP_AT_MESSAGE_CREATE', now);
    await adapter.send!(sendRequest({ ...replyTo(message), text: 'now' }));
    now += 6 * MINUTE;
    const error = await rejection(adapter.send!(sendRequest({ ...replyTo(message), text: 'later' })));
    assert.equal(error.code, 'IMG_ERR_REPLY_WINDOW_CLOSED');
  });

  it('refuses proactive messages to users and groups, naming the end of proactive pushes', async () => {
    for (const to of [`user:${USER_OPENID}`, `group:${GROUP_OPENID}`]) {
      const error = await rejection(adapter.send!(sendRequest({ to, text: 'hello?' })));
      assert.equal(error.code, 'IMG_ERR_SEND_UNSUPPORTED');
      assert.match(error.message, /no proactive messages to users and groups since 2025-04-21/);
    }
  });

  it('sends to a guild channel without msg_id, and replies in a guild channel and DM with it', async () => {
    await adapter.send!(sendRequest({ to: `channel:${CHANNEL_ID}`, text: 'announcement', mentions: ['2233'] }));
    assert.deepEqual(last(CHANNEL_MESSAGES), { content: '<@2233> announcement' });
    const atMessage = received('AT_MESSAGE_CREATE', now, 1);
    await adapter.send!(sendRequest({ ...replyTo(atMessage), markdown: '**ok**' }));
    assert.deepEqual(last(CHANNEL_MESSAGES), { markdown: { content: '**ok**' }, msg_id: atMessage.message.platformId });
    const dm = received('DIRECT_MESSAGE_CREATE', now, 1);
    await adapter.send!(sendRequest({ ...replyTo(dm), image: { url: 'https://img.example/cat.png' } }));
    assert.deepEqual(last(DM_MESSAGES), { image: 'https://img.example/cat.png', msg_id: dm.message.platformId });
    const late = await rejection(adapter.send!(sendRequest({ ...replyTo(received('AT_MESSAGE_CREATE', now, 6)), text: 'late' })));
    assert.equal(late.code, 'IMG_ERR_REPLY_WINDOW_CLOSED');
    assert.match(late.message, /send it without replyTo as a proactive message instead/);
  });

  it('sends an image to a user or group by uploading it first (srv_send_msg false), then as msg_type 7', async () => {
    const message = received('GROUP_AT_MESSAGE_CREATE', now);
    await adapter.send!(sendRequest({ ...replyTo(message), image: { url: 'https://img.example/chart.png' } }));
    assert.deepEqual(last(GROUP_FILES), { file_type: 1, url: 'https://img.example/chart.png', srv_send_msg: false });
    assert.deepEqual(last(GROUP_MESSAGES), {
      msg_type: 7,
      content: ' ',
      media: { file_info: 'file-info-for-https://img.example/chart.png' },
      msg_id: message.message.platformId,
      msg_seq: 1,
    });
    const direct = received('C2C_MESSAGE_CREATE', now);
    await adapter.send!(sendRequest({ ...replyTo(direct), markdown: '# hi' }));
    assert.deepEqual(last(USER_MESSAGES), { msg_type: 2, markdown: { content: '# hi' }, msg_id: direct.message.platformId, msg_seq: 1 });
    await adapter.send!(sendRequest({ ...replyTo(direct), image: { url: 'https://img.example/u.jpg' } }));
    assert.equal(last(USER_FILES).url, 'https://img.example/u.jpg');
    assert.equal(last(USER_MESSAGES).msg_seq, 2);
  });

  it('takes no msg_seq for a reply whose image upload failed', async () => {
    const message = received('GROUP_AT_MESSAGE_CREATE', now);
    api.route(GROUP_FILES, () => ({ status: 400, body: { code: 850027, message: 'the image could not be fetched' } }));
    try {
      await assert.rejects(async () => adapter.send!(sendRequest({ ...replyTo(message), image: { url: 'https://img.example/gone.png' } })));
    } finally {
      api.route(GROUP_FILES, null);
    }
    await adapter.send!(sendRequest({ ...replyTo(message), text: 'the chart is not ready' }));
    assert.equal(last(GROUP_MESSAGES).msg_seq, 1, 'the failed upload used no number');
  });

  it('refuses image.base64, mentions in C2C and group messages, and a `to` without its kind', async () => {
    const message = received('C2C_MESSAGE_CREATE', now);
    const base64 = await rejection(adapter.send!(sendRequest({ ...replyTo(message), image: { base64: 'iVBORw0KGgo=' } })));
    assert.equal(base64.code, 'IMG_ERR_SEND_UNSUPPORTED');
    await adapter.send!(sendRequest({ ...replyTo(message), text: 'first real reply' }));
    assert.equal(last(USER_MESSAGES).msg_seq, 1, 'the refused image used no msg_seq');
    const mention = await rejection(adapter.send!(sendRequest({ ...replyTo(message), text: 'hi', mentions: ['someone'] })));
    assert.equal(mention.code, 'IMG_ERR_SEND_UNSUPPORTED');
    const bare = await rejection(adapter.send!(sendRequest({ to: USER_OPENID, text: 'hi' })));
    assert.equal(bare.code, 'IMG_ERR_VALIDATION');
    assert.match(bare.message, /user:<user_openid>, group:<group_openid>, channel:<channel_id> or dm:<guild_id>/);
    const elsewhere = await rejection(adapter.send!(sendRequest({ to: `group:${GROUP_OPENID}`, replyTo: message, text: 'hi' })));
    assert.equal(elsewhere.code, 'IMG_ERR_VALIDATION');
    const badMention = await rejection(adapter.send!(sendRequest({ to: `channel:${CHANNEL_ID}`, text: 'hi', mentions: ['<@everyone>'] })));
    assert.equal(badMention.code, 'IMG_ERR_VALIDATION');
  });

  it('refuses an image.url that is no URL, or not http or https, with the message every platform gives', async () => {
    const message = received('C2C_MESSAGE_CREATE', now);
    const notUrl = await rejection(adapter.send!(sendRequest({ ...replyTo(message), image: { url: 'cat.png' } })));
    assert.deepEqual([notUrl.code, notUrl.message, notUrl.details], ['IMG_ERR_VALIDATION', 'image.url is not a URL', { field: 'image.url' }]);
    const ftp = await rejection(adapter.send!(sendRequest({ ...replyTo(message), image: { url: 'ftp://img.example/cat.png' } })));
    assert.deepEqual([ftp.code, ftp.message], ['IMG_ERR_VALIDATION', 'image.url must be http or https']);
  });

  it('fetches the token again once when QQ refuses it (HTTP 401, code 11243), for a burst of sends', async () => {
    const current = String(api.requestsTo(CHANNEL_MESSAGES).at(-1)!.headers.authorization).slice('QQBot '.length);
    api.revoked.add(current);
    const before = api.tokenCalls;
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => adapter.send!(sendRequest({ to: `channel:${CHANNEL_ID}`, text: `after revoke ${i}` }))));
    assert.equal(results.length, 5);
    assert.equal(api.tokenCalls, before + 1, 'one re-fetch for the whole burst');
    assert.notEqual(String(api.requestsTo(CHANNEL_MESSAGES).at(-1)!.headers.authorization), `QQBot ${current}`);
  });

  it('fetches the token again on code 11242 in an HTTP 400 answer as well', async () => {
    let refused = false;
    api.route(CHANNEL_MESSAGES, () => {
      if (refused) return { status: 200, body: { id: 'after-11242' } };
      refused = true;
      return { status: 400, body: { message: 'check token failed', code: 11242 } };
    });
    const before = api.tokenCalls;
    try {
      assert.deepEqual(await adapter.send!(sendRequest({ to: `channel:${CHANNEL_ID}`, text: 'x' })), { platformMessageId: 'after-11242' });
      assert.equal(api.tokenCalls, before + 1);
    } finally {
      api.route(CHANNEL_MESSAGES, null);
    }
  });

  it("maps QQ's refusals: 304027 and 22009 to the reply rules, 429 and 20028 to rate limits, others to 422 with QQ's code", async () => {
    const answers: [number, object, string, Record<string, unknown>][] = [
      [400, { code: 304027, message: 'reply msg expired' }, 'IMG_ERR_REPLY_WINDOW_CLOSED', { rule: 'reply-window' }],
      [400, { code: 22009, message: 'msg limit exceed' }, 'IMG_ERR_REPLY_WINDOW_CLOSED', { rule: 'reply-count' }],
      [429, { code: 429, message: 'too many' }, 'IMG_ERR_PLATFORM_RATE_LIMITED', {}],
      [400, { code: 304026, message: 'msg_id error' }, 'IMG_ERR_PLATFORM_REJECTED', { code: 304026 }],
      [200, { code: 50056, message: 'markdown not allowed' }, 'IMG_ERR_PLATFORM_REJECTED', { code: 50056 }],
    ];
    for (const [status, body, code, details] of answers) {
      api.route(USER_MESSAGES, () => ({ status, body }));
      const error = await rejection(adapter.send!(sendRequest({ ...replyTo(received('C2C_MESSAGE_CREATE', now)), text: 'x' })));
      assert.equal(error.code, code, JSON.stringify(body));
      for (const [key, value] of Object.entries(details)) assert.equal(error.details?.[key], value, `${JSON.stringify(body)} ${key}`);
    }
    api.route(USER_MESSAGES, null);
    api.route(CHANNEL_MESSAGES, () => ({ status: 400, body: { code: 20028, message: 'channel hit write rate limit' } }));
    const guild = await rejection(adapter.send!(sendRequest({ to: `channel:${CHANNEL_ID}`, text: 'x' })));
    api.route(CHANNEL_MESSAGES, null);
    assert.equal(guild.code, 'IMG_ERR_PLATFORM_RATE_LIMITED');
    assert.equal(guild.retryAfter, 1);
  });

  it('reuses the msg_seq of a send when it is retried, and takes QQ\'s "duplicate msg_seq" then as delivered', async () => {
    const message = received('C2C_MESSAGE_CREATE', now);
    const request = sendRequest({ ...replyTo(message), text: 'retried' });
    api.route(USER_MESSAGES, () => ({ status: 503, body: 'busy' }));
    await rejection(adapter.send!(request));
    assert.equal(last(USER_MESSAGES).msg_seq, 1);
    api.route(USER_MESSAGES, () => ({ status: 400, body: { message: '消息被去重，请检查请求msgseq', code: 40054005, err_code: 40054005 } }));
    assert.deepEqual(await adapter.send!(request), { platformMessageId: null });
    assert.equal(last(USER_MESSAGES).msg_seq, 1, 'the same number again');
    const fresh = await rejection(adapter.send!(sendRequest({ ...replyTo(message), text: 'a new send' })));
    api.route(USER_MESSAGES, null);
    assert.equal(fresh.code, 'IMG_ERR_PLATFORM_REJECTED', 'a new send refused as a duplicate was not delivered');
    assert.equal(last(USER_MESSAGES).msg_seq, 2);
  });

  it('says QQ drops repeats of replies to users and groups (msg_seq), not of guild messages', () => {
    assert.equal(adapter.dedupedByPlatform!(sendRequest({ to: `user:${USER_OPENID}` })), true);
    assert.equal(adapter.dedupedByPlatform!(sendRequest({ to: `group:${GROUP_OPENID}` })), true);
    assert.equal(adapter.dedupedByPlatform!(sendRequest({ to: `channel:${CHANNEL_ID}` })), false);
    assert.equal(adapter.dedupedByPlatform!(sendRequest({ to: `dm:${DM_GUILD_ID}` })), false);
  });

  it('answers null for a guild message QQ holds for review (HTTP 202, code 304023)', async () => {
    api.route(CHANNEL_MESSAGES, () => ({ status: 202, body: { code: 304023, message: 'push message is waiting for audit now', data: { message_audit: { audit_id: 'a1' } } } }));
    try {
      assert.deepEqual(await adapter.send!(sendRequest({ to: `channel:${CHANNEL_ID}`, text: 'x' })), { platformMessageId: null });
    } finally {
      api.route(CHANNEL_MESSAGES, null);
    }
  });

  it('takes tokens from tokenUrl when set, telling it which token QQ refused', async () => {
    const viaService = adapterFor(channel({ apiBase: api.url, tokenUrl: `${api.url}${TOKEN_PATH}` }), testAdapterDeps());
    await viaService.send!(sendRequest({ to: `channel:${CHANNEL_ID}`, text: 'via token service' }));
    assert.equal(last(TOKEN_PATH).invalid_token, undefined);
    const token = String(api.requestsTo(CHANNEL_MESSAGES).at(-1)!.headers.authorization).slice('QQBot '.length);
    api.revoked.add(token);
    await viaService.send!(sendRequest({ to: `channel:${CHANNEL_ID}`, text: 'after refusal' }));
    assert.equal(last(TOKEN_PATH).invalid_token, token);
  });

  it("answers 422 with QQ's code when getAppAccessToken refuses the secret", async () => {
    const wrong = adapterFor(channel({ apiBase: api.url, tokenBase: `${api.url}${TOKEN_PREFIX}`, secret: 'not-the-bot-secret-000000000000' }));
    const error = await rejection(wrong.send!(sendRequest({ to: `channel:${CHANNEL_ID}`, text: 'x' })));
    assert.equal(error.code, 'IMG_ERR_PLATFORM_REJECTED');
    assert.deepEqual(error.details, { code: 100016, message: 'invalid appid or secret' });
  });

  it('never logs the secret or an access token', () => {
    const text = logLines.join('');
    assert.ok(text.includes('fetching a new one'), 'the token refusal was logged');
    assert.ok(!text.includes(SECRET));
    for (const token of api.issued) assert.ok(!text.includes(token), token);
  });
});
