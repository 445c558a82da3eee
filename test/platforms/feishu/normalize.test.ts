import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NormalizedEvent } from '../../../src/core/event.ts';
import { normalizeFeishuEvent } from '../../../src/platforms/feishu/normalize.ts';
import { failsWith } from '../../helpers/errors.ts';
import { BOT_OPEN_ID, CHAT_ID, USER_OPEN_ID, envelope, mention, messageEvent, type MessageOptions } from './helpers.ts';

const RECEIVED_AT = new Date('2025-11-24T16:00:00.000Z');

function normalize(payload: unknown, botOpenId: string | null = BOT_OPEN_ID): NormalizedEvent {
  const event = normalizeFeishuEvent(payload as Record<string, unknown>, { receivedAt: RECEIVED_AT, botOpenId });
  assert.ok(event, 'expected an event');
  return event;
}

const message = (options: MessageOptions, botOpenId?: string | null) => normalize(messageEvent(options), botOpenId);

describe('normalizing Feishu events', () => {
  describe('im.message.receive_v1', () => {
    it('makes a group text message a unified event: chat, sender open_id, message id, times, dedup on event_id', () => {
      const payload = messageEvent({ messageId: 'om_abc', content: { text: 'hello there' }, createTime: '1764000000123' });
      const event = normalize(payload);
      assert.equal(event.dedupKey, payload.header.event_id);
      assert.equal(event.type, 'message');
      assert.deepEqual(event.message, {
        platformId: 'om_abc',
        type: 'text',
        text: 'hello there',
        createdAt: new Date(1764000000123).toISOString(),
        mentions: [],
        mentionsBot: false,
        replyTo: null,
        content: { msgType: 'text' },
      });
      assert.deepEqual(event.sender, { id: USER_OPEN_ID, name: null, isSelf: false });
      assert.deepEqual(event.conversation, { id: CHAT_ID, type: 'group', name: null });
      assert.deepEqual(event.raw, { ...payload, header: { ...payload.header, token: '[redacted]' } }, 'the verification token is not kept');
    });

    it('makes a p2p chat a direct conversation, still named by its chat_id', () => {
      const event = message({ chatType: 'p2p', chatId: 'oc_p2p_chat' });
      assert.deepEqual(event.conversation, { id: 'oc_p2p_chat', type: 'direct', name: null });
    });

    it('resolves @_user_N placeholders into mentions, removes them from the text and sees the bot among them', () => {
      const event = message({
        content: { text: '@_user_1 please ask @_user_2 about @_user_10' },
        mentions: [mention(1, BOT_OPEN_ID, 'imgate'), mention(2, 'ou_tom', 'Tom', 'tom01'), mention(10, 'ou_ten', 'Ten')],
      });
      assert.equal(event.message.text, 'please ask about');
      assert.deepEqual(event.message.mentions, [
        { id: BOT_OPEN_ID, name: 'imgate' },
        { id: 'ou_tom', name: 'Tom' },
        { id: 'ou_ten', name: 'Ten' },
      ]);
      assert.equal(event.message.mentionsBot, true);
    });

    it('does not see the bot in mentions of others', () => {
      const event = message({ content: { text: '@_user_1 hi' }, mentions: [mention(1, 'ou_tom', 'Tom')] });
      assert.equal(event.message.text, 'hi');
      assert.equal(event.message.mentionsBot, false);
    });

    it('takes @_all as a mention of everyone, the bot included, even when mentions leaves it out', () => {
      const listed = message({ content: { text: '@_all meeting now' }, mentions: [{ key: '@_all', name: '所有人' }] });
      assert.deepEqual(listed.message.mentions, [{ id: 'all', name: '所有人' }]);
      assert.equal(listed.message.text, 'meeting now');
      assert.equal(listed.message.mentionsBot, true);
      const unlisted = message({ content: { text: '@_all meeting now' } });
      assert.deepEqual(unlisted.message.mentions, [{ id: 'all', name: null }]);
      assert.equal(unlisted.message.mentionsBot, true);
    });

    it('guesses the bot while its open_id is unknown: a mention without user_id when the sender has one', () => {
      const withScope = { content: { text: '@_user_1 hi' }, mentions: [mention(1, 'ou_some_bot', 'bot')] };
      assert.equal(message(withScope, null).message.mentionsBot, true);
      const aUser = { content: { text: '@_user_1 hi' }, mentions: [mention(1, 'ou_tom', 'Tom', 'tom01')] };
      assert.equal(message(aUser, null).message.mentionsBot, false);
      const noScope = { ...withScope, sender: { open_id: USER_OPEN_ID, union_id: 'on_x' } };
      assert.equal(message(noScope, null).message.mentionsBot, false, 'without user_ids nothing is guessed');
    });

    it('marks the bot\'s own messages as isSelf, and no other app\'s', () => {
      const own = message({ senderType: 'app', sender: { open_id: BOT_OPEN_ID } });
      assert.equal(own.sender.isSelf, true);
      assert.equal(own.message.content.senderType, 'app');
      assert.equal(message({ senderType: 'app', sender: { open_id: 'ou_other_app' } }).sender.isSelf, false);
      assert.equal(message({ senderType: 'app', sender: { open_id: BOT_OPEN_ID } }, null).sender.isSelf, false);
    });

    it('names the message answered in replyTo (parent_id, else root_id), keeping both in content', () => {
      const reply = message({ parentId: 'om_parent', rootId: 'om_root' });
      assert.equal(reply.message.replyTo, 'om_parent');
      assert.equal(reply.message.content.parentId, 'om_parent');
      assert.equal(reply.message.content.rootId, 'om_root');
      assert.equal(message({ rootId: 'om_root' }).message.replyTo, 'om_root');
    });

    it('turns a post into plain text: title first, a line per paragraph, mentions removed, links with their URL', () => {
      const post = {
        title: '周报',
        content: [
          [
            { tag: 'at', user_id: '@_user_1', user_name: 'imgate' },
            { tag: 'text', text: ' see ' },
            { tag: 'a', text: 'the doc', href: 'https://example.com/doc' },
          ],
          [{ tag: 'text', text: 'done', style: ['bold'] }, { tag: 'emotion', emoji_type: 'SMILE' }],
          [{ tag: 'img', image_key: 'img_1' }],
          [{ tag: 'code_block', language: 'GO', text: 'fmt.Println()' }],
        ],
      };
      const event = message({ messageType: 'post', content: post, mentions: [mention(1, BOT_OPEN_ID, 'imgate')] });
      assert.equal(event.message.type, 'text');
      assert.equal(event.message.text, '周报\nsee the doc (https://example.com/doc)\ndone:SMILE:\n\nfmt.Println()');
      assert.deepEqual(event.message.content, { msgType: 'post', title: '周报', imageKeys: ['img_1'] });
      assert.equal(event.message.mentionsBot, true);
    });

    it('reads a post wrapped in a locale, and a post of images only as an image', () => {
      const wrapped = message({ messageType: 'post', content: { en_us: { title: 'T', content: [[{ tag: 'text', text: 'body' }]] } } });
      assert.equal(wrapped.message.text, 'T\nbody');
      const images = message({ messageType: 'post', content: { content: [[{ tag: 'img', image_key: 'img_a' }], [{ tag: 'img', image_key: 'img_b' }]] } });
      assert.equal(images.message.type, 'image');
      assert.equal(images.message.text, null);
      assert.deepEqual(images.message.content, { msgType: 'post', title: null, imageKeys: ['img_a', 'img_b'], imageKey: 'img_a' });
    });

    const cases: [string, unknown, string, Record<string, unknown>][] = [
      ['image', { image_key: 'img_v3_1' }, 'image', { imageKey: 'img_v3_1' }],
      ['file', { file_key: 'file_v3_1', file_name: 'a.pdf' }, 'file', { fileKey: 'file_v3_1', fileName: 'a.pdf' }],
      ['audio', { file_key: 'file_v3_2', duration: 2000 }, 'voice', { fileKey: 'file_v3_2', durationMs: 2000 }],
      [
        'media',
        { file_key: 'file_v3_3', image_key: 'img_v3_3', file_name: 'v.mp4', duration: 5000 },
        'video',
        { fileKey: 'file_v3_3', imageKey: 'img_v3_3', fileName: 'v.mp4', durationMs: 5000 },
      ],
      ['sticker', { file_key: 'file_v3_4' }, 'emoji', { fileKey: 'file_v3_4' }],
      ['location', { name: 'Office', longitude: '116.4', latitude: '39.9' }, 'location', { name: 'Office', latitude: 39.9, longitude: 116.4 }],
      ['share_chat', { chat_id: 'oc_shared' }, 'unknown', { value: { chat_id: 'oc_shared' } }],
      ['system', { template: '{from_user} invited {to_chatters}' }, 'system', { value: { template: '{from_user} invited {to_chatters}' } }],
    ];
    for (const [messageType, content, unifiedType, details] of cases) {
      it(`reads ${messageType} as ${unifiedType}`, () => {
        const event = message({ messageType, content });
        assert.equal(event.message.type, unifiedType);
        assert.equal(event.message.text, null);
        assert.deepEqual(event.message.content, { msgType: messageType, ...details });
      });
    }

    it('reads a card (interactive) as unknown, with its readable text and the card in content', () => {
      const card = {
        header: { title: { tag: 'plain_text', content: 'Build #42' } },
        elements: [
          { tag: 'div', text: { tag: 'lark_md', content: '**passed** in 3 min' } },
          { tag: 'action', actions: [{ tag: 'button', text: { tag: 'plain_text', content: 'Open' } }] },
        ],
      };
      const event = message({ messageType: 'interactive', content: card });
      assert.equal(event.message.type, 'unknown');
      assert.equal(event.message.text, 'Build #42\n**passed** in 3 min\nOpen');
      assert.deepEqual(event.message.content, { msgType: 'interactive', card });
    });

    it('keeps content that is not JSON as it came instead of refusing the event', () => {
      const event = message({ messageType: 'text', content: 'not json' });
      assert.equal(event.message.type, 'unknown');
      assert.deepEqual(event.message.content, { msgType: 'text', raw: 'not json' });
    });

    it('refuses a message event without a message with 400 IMG_ERR_INBOUND_UNSUPPORTED', () => {
      assert.throws(
        () => normalizeFeishuEvent(envelope('im.message.receive_v1', { sender: {} }), { receivedAt: RECEIVED_AT, botOpenId: null }),
        failsWith('IMG_ERR_INBOUND_UNSUPPORTED'),
      );
    });
  });

  it('takes the header time, then the receive time, for a create_time beyond what a Date holds, instead of throwing a RangeError (a 500)', () => {
    // Found by test/properties/feishu-callback.test.ts.
    assert.equal(message({ createTime: '1e300' }).message.createdAt, new Date(Number(messageEvent().header.create_time)).toISOString());
    const payload = messageEvent({ createTime: '99999999999999999999' }, { create_time: '1e300' });
    assert.equal(normalize(payload).message.createdAt, RECEIVED_AT.toISOString());
  });

  it('makes im.message.recalled_v1 a message.recalled event naming the recalled message', () => {
    const payload = envelope('im.message.recalled_v1', { message_id: 'om_gone', chat_id: CHAT_ID, recall_time: '1764000100000', recall_type: 'message_owner' });
    const event = normalize(payload);
    assert.equal(event.type, 'message.recalled');
    assert.equal(event.dedupKey, payload.header.event_id);
    assert.equal(event.message.platformId, payload.header.event_id, 'its own id, so replyTo om_gone still finds the message');
    assert.equal(event.message.type, 'system');
    assert.equal(event.message.createdAt, new Date(1764000100000).toISOString());
    assert.deepEqual(event.message.content, { event: 'im.message.recalled_v1', recalledPlatformId: 'om_gone', recallType: 'message_owner' });
    assert.deepEqual(event.conversation, { id: CHAT_ID, type: 'group', name: null });
  });

  it('makes im.chat.member.bot.added_v1 member.joined, from the user who added the bot, in the named chat', () => {
    const payload = envelope('im.chat.member.bot.added_v1', {
      chat_id: CHAT_ID,
      operator_id: { open_id: USER_OPEN_ID, union_id: 'on_u', user_id: 'u1' },
      external: false,
      operator_tenant_key: 'tenant-test',
      name: 'Team chat',
      i18n_names: { zh_cn: '团队', en_us: 'Team chat' },
    });
    const event = normalize(payload);
    assert.equal(event.type, 'member.joined');
    assert.equal(event.dedupKey, payload.header.event_id);
    assert.deepEqual(event.sender, { id: USER_OPEN_ID, name: null, isSelf: false });
    assert.deepEqual(event.conversation, { id: CHAT_ID, type: 'group', name: 'Team chat' });
    assert.deepEqual(event.message.content, { event: 'im.chat.member.bot.added_v1', external: false });
  });

  it('makes im.chat.member.bot.deleted_v1 a system event saying so', () => {
    const event = normalize(envelope('im.chat.member.bot.deleted_v1', { chat_id: CHAT_ID, operator_id: { open_id: USER_OPEN_ID }, name: 'Team chat' }));
    assert.equal(event.type, 'system');
    assert.equal(event.message.type, 'system');
    assert.equal(event.message.content.event, 'im.chat.member.bot.deleted_v1');
  });

  it('stores no other event types', () => {
    for (const type of ['im.message.reaction.created_v1', 'im.chat.updated_v1', 'card.action.trigger']) {
      assert.equal(normalizeFeishuEvent(envelope(type, { chat_id: CHAT_ID }), { receivedAt: RECEIVED_AT, botOpenId: null }), null);
    }
  });
});
