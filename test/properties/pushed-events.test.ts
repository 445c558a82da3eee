import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ImgateError } from '../../src/core/errors.ts';
import { normalizeDiscordDispatch } from '../../src/platforms/discord/normalize.ts';
import { ingestPushedEvent } from '../../src/platforms/feishu/connection.ts';
import { encryptFeishuPayload } from '../../src/platforms/feishu/crypto.ts';
import { normalizeQqDispatch } from '../../src/platforms/qq/normalize.ts';
import { contextTokenOf, normalizeIlinkMessage } from '../../src/platforms/wechat-ilink/normalize.ts';
import { normalizeKfMessage } from '../../src/platforms/wecom-kf/normalize.ts';
import { testAdapterDeps } from '../helpers/adapter-deps.ts';
import { ALICE, BOT_USER_ID, messageData } from '../helpers/fake-discord.ts';
import { FEISHU_KEYS, feishuChannel, messageEvent } from '../platforms/feishu/helpers.ts';
import { dispatch } from '../platforms/qq/helpers.ts';
import { customerText, systemEvent } from '../platforms/wecom-kf/helpers.ts';
import { RUNS, arbitraryTime, outcomeOrRefusal, outcomeOrRefusalSync, shapedLike } from './arbitraries.ts';

/*
 * What arrives without an HTTP callback: dispatches of the Discord and QQ gateways
 * (src/platforms/*\/normalize.ts, called by the shared op-gateway client), events the Feishu long
 * connection pushes (ingestPushedEvent), WeixinMessages of a WeChat iLink `getupdates` answer, and `kf/sync_msg` entries of a WeCom customer-service pull.
 * The connection that brought them was authenticated, so there is no signature to mutate: any
 * payload gives an event, nothing, or a 4xx ImgateError (which the callers log and pass over).
 */

const NOW = new Date();

describe('property: pushed events and pulled messages', () => {
  it('Discord gateway dispatches: any MESSAGE_CREATE or MESSAGE_DELETE data gives an event, nothing, or a 4xx refusal', () => {
    const overrides = {
      type: fc.constantFrom(0, 7, 19, 20, 23, 6, '0', null),
      content: fc.constantFrom('hi <@1000000000000000001>', '<@!x>', '@everyone', ''),
      mentions: fc.array(fc.record({ id: fc.constantFrom(BOT_USER_ID, '1', ''), username: fc.string() }, { requiredKeys: [] }), { maxLength: 2 }),
      timestamp: arbitraryTime,
      id: fc.constantFrom('1300000000000000001', '99999999999999999999', '', '0'),
    };
    const frames = fc.record({
      t: fc.constantFrom('MESSAGE_CREATE', 'MESSAGE_DELETE', 'MESSAGE_UPDATE', 'READY'),
      s: fc.integer(),
      d: shapedLike(messageData({ mentions: [ALICE], attachments: [{ id: '1', filename: 'a.png', url: 'https://x/a.png', content_type: 'image/png' }], message_reference: { message_id: '1' } }), overrides),
    });
    fc.assert(
      fc.property(frames, fc.option(fc.constant(BOT_USER_ID)), (frame, bot) => {
        outcomeOrRefusalSync(() => normalizeDiscordDispatch(frame, bot, NOW));
      }),
      { numRuns: RUNS.pure },
    );
  });

  it('QQ gateway dispatches: any message event data gives an event, nothing, or a 4xx refusal', () => {
    const overrides = {
      t: fc.constantFrom('C2C_MESSAGE_CREATE', 'GROUP_AT_MESSAGE_CREATE', 'AT_MESSAGE_CREATE', 'DIRECT_MESSAGE_CREATE', 'MESSAGE_CREATE', 'READY'),
      timestamp: arbitraryTime,
    };
    const payloads = fc.oneof(
      ...(['C2C_MESSAGE_CREATE', 'GROUP_AT_MESSAGE_CREATE', 'AT_MESSAGE_CREATE', 'DIRECT_MESSAGE_CREATE'] as const).map((type) => shapedLike(dispatch(type), overrides)),
    );
    fc.assert(
      fc.property(payloads, (payload) => {
        // The gateway client hands over whatever `d` came, with op 0 and the dispatch name.
        const frame = payload !== null && typeof payload === 'object' ? (payload as Record<string, unknown>) : { d: payload };
        outcomeOrRefusalSync(() => normalizeQqDispatch({ op: 0, t: typeof frame.t === 'string' ? frame.t : '', d: frame.d }, NOW));
      }),
      { numRuns: RUNS.pure },
    );
  });

  it('Feishu long connection: any pushed event is stored, or acknowledged with a 4xx reported; the promise never rejects', async () => {
    const config = feishuChannel({ mode: 'websocket', appId: 'cli_a1b2c3d4e5f60718', encryptKey: FEISHU_KEYS.encryptKey });
    const overrides = { create_time: arbitraryTime, message_type: fc.constantFrom('text', 'post', 'image', 'file', 'x'), chat_type: fc.constantFrom('p2p', 'group', '') };
    const pushed = fc.oneof(
      shapedLike(messageEvent(), overrides),
      // Encrypted, as an app with an Encrypt Key may get it.
      shapedLike(messageEvent(), overrides).map((event) => ({ encrypt: encryptFeishuPayload(FEISHU_KEYS.encryptKey, JSON.stringify(event) ?? 'null') })),
      fc.record({ encrypt: fc.oneof(fc.base64String({ maxLength: 80 }), fc.string(), fc.integer()) }),
      fc.jsonValue({ maxDepth: 3 }),
    );
    const ctx = { config, bot: { openId: 'ou_bot' } };
    await fc.assert(
      fc.asyncProperty(pushed, async (data) => {
        const deps = testAdapterDeps();
        await outcomeOrRefusal(() => ingestPushedEvent(ctx, deps, data));
        for (const error of deps.reportedErrors) {
          assert.ok(error instanceof ImgateError && error.status < 500, `reported ${String(error)}`);
        }
      }),
      { numRuns: RUNS.shaped },
    );
    // The unmodified event is stored (so that the property is not vacuous).
    const deps = testAdapterDeps();
    await ingestPushedEvent(ctx, deps, messageEvent());
    assert.equal(deps.sinkCalls.length, 1);
  });

  it('WeCom customer service: any kf/sync_msg entry gives an event, nothing, or a 4xx refusal', () => {
    const overrides = {
      send_time: arbitraryTime,
      origin: fc.constantFrom(3, 4, 5, '3', 0),
      msgtype: fc.constantFrom('text', 'image', 'voice', 'video', 'file', 'location', 'link', 'business_card', 'miniprogram', 'msgmenu', 'event', 'x'),
      event_type: fc.constantFrom('enter_session', 'msg_send_fail', 'servicer_status_change', 'session_status_change', 'user_recall_msg', 'servicer_recall_msg', 'x'),
    };
    const entries = fc.oneof(
      shapedLike(customerText('m1', 'hello', { image: { media_id: 'x' }, location: { latitude: 1, longitude: 2 } }), overrides),
      shapedLike(systemEvent('m2', { event_type: 'enter_session', external_userid: 'wm1', scene: 'x', recall_msgid: 'm1' }), overrides),
    );
    fc.assert(
      fc.property(entries, (entry) => {
        if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return; // the pull passes over non-objects itself
        outcomeOrRefusalSync(() => normalizeKfMessage(entry as Record<string, unknown>, { pulledAt: NOW }));
      }),
      { numRuns: RUNS.pure },
    );
  });
  it('WeChat iLink getupdates messages: any WeixinMessage gives an event or nothing, and its context token or nothing', () => {
    const template = {
      seq: 1,
      message_id: '7311234567890123456',
      from_user_id: 'u1@im.wechat',
      to_user_id: 'bot@im.bot',
      group_id: 'g1@chatroom',
      create_time_ms: 1764900000000,
      message_type: 1,
      message_state: 2,
      item_list: [
        { type: 1, text_item: { text: 'hi' }, ref_msg: { title: 't', svr_id: '1', message_item: { type: 1, text_item: { text: 'q' } } } },
        { type: 2, image_item: { aeskey: '00', media: { encrypt_query_param: 'q', aes_key: 'k', full_url: 'https://x' } } },
        { type: 3, voice_item: { text: 'v', playtime: 1 } },
        { type: 4, file_item: { file_name: 'a', len: '1', md5: 'm' } },
        { type: 5, video_item: { video_size: 1 } },
      ],
      context_token: 'ctx',
    };
    const overrides = { message_type: fc.constantFrom(0, 1, 2, '2', null), type: fc.constantFrom(0, 1, 2, 3, 4, 5, 11, '1', null), create_time_ms: arbitraryTime };
    fc.assert(
      fc.property(shapedLike(template, overrides), (message) => {
        if (message === null || typeof message !== 'object' || Array.isArray(message)) return;
        const event = normalizeIlinkMessage(message as Record<string, unknown>, NOW);
        if (event !== null) assert.equal(typeof event.message.platformId, 'string');
        const context = contextTokenOf(message as Record<string, unknown>);
        if (context !== null) assert.equal(typeof context.token, 'string');
      }),
      { numRuns: RUNS.shaped },
    );
  });
});
