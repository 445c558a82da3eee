import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeQqDispatch } from '../../../src/platforms/qq/normalize.ts';
import type { NormalizedEvent } from '../../../src/core/event.ts';
import { failsWith } from '../../helpers/errors.ts';
import { BOT_USER_ID, CHANNEL_ID, DM_GUILD_ID, GROUP_OPENID, GUILD_ID, MEMBER_OPENID, USER_OPENID, dispatch } from './helpers.ts';

const RECEIVED = new Date('2026-11-23T09:00:05.000Z');

function normalize(payload: Record<string, unknown>): NormalizedEvent {
  const event = normalizeQqDispatch(payload, RECEIVED);
  assert.ok(event !== null, 'a stored event');
  return event;
}

describe('qq normalization', () => {
  it('C2C_MESSAGE_CREATE: a direct conversation user:<user_openid>, deduplicated on the message id', () => {
    const payload = dispatch('C2C_MESSAGE_CREATE', { id: 'ROBOT1.0_.b6nx.CVryAO0nR58RXuU6SC.m92gc19j02qKqdm8ek!', content: '123', timestamp: '2023-11-06T13:37:18+08:00' });
    const event = normalize(payload);
    assert.equal(event.dedupKey, 'ROBOT1.0_.b6nx.CVryAO0nR58RXuU6SC.m92gc19j02qKqdm8ek!');
    assert.deepEqual(event.message, {
      platformId: 'ROBOT1.0_.b6nx.CVryAO0nR58RXuU6SC.m92gc19j02qKqdm8ek!',
      type: 'text',
      text: '123',
      createdAt: '2023-11-06T05:37:18.000Z',
      mentions: [],
      mentionsBot: false,
      replyTo: null,
      content: {},
    });
    assert.deepEqual(event.sender, { id: USER_OPENID, name: null, isSelf: false });
    assert.deepEqual(event.conversation, { id: `user:${USER_OPENID}`, type: 'direct', name: null });
    assert.equal(event.type, 'message');
    assert.deepEqual(event.raw, payload);
  });

  it('GROUP_AT_MESSAGE_CREATE: group:<group_openid>, the member as sender, the space QQ leaves after the @ removed', () => {
    const event = normalize(dispatch('GROUP_AT_MESSAGE_CREATE', { content: ' 123 ' }));
    assert.equal(event.message.text, '123');
    assert.equal(event.message.mentionsBot, true);
    assert.deepEqual(event.sender, { id: MEMBER_OPENID, name: null, isSelf: false });
    assert.deepEqual(event.conversation, { id: `group:${GROUP_OPENID}`, type: 'group', name: null });
  });

  it('AT_MESSAGE_CREATE: channel:<channel_id>, <@!bot> markup removed, other mentions listed', () => {
    const event = normalize(
      dispatch('AT_MESSAGE_CREATE', {
        content: `<@!${BOT_USER_ID}> ask <@!2233> and <@3344> please`,
        mentions: [
          { id: BOT_USER_ID, username: 'imgate-bot', bot: true },
          { id: '2233', username: 'Alice', bot: false },
          { id: '3344', username: 'Bob' },
        ],
        message_reference: { message_id: 'earlier-guild-message' },
        member: { nick: 'abc in this guild' },
      }),
    );
    assert.equal(event.message.text, 'ask and please');
    assert.equal(event.message.mentionsBot, true);
    assert.deepEqual(event.message.mentions, [
      { id: '2233', name: 'Alice' },
      { id: '3344', name: 'Bob' },
    ]);
    assert.equal(event.message.replyTo, 'earlier-guild-message');
    assert.deepEqual(event.message.content, { guildId: GUILD_ID, channelId: CHANNEL_ID });
    assert.deepEqual(event.sender, { id: '1234', name: 'abc in this guild', isSelf: false });
    assert.deepEqual(event.conversation, { id: `channel:${CHANNEL_ID}`, type: 'group', name: null });
  });

  it('DIRECT_MESSAGE_CREATE: dm:<guild_id> (the DM session /dms/{guild_id} sends to), the user name as sender name', () => {
    const event = normalize(dispatch('DIRECT_MESSAGE_CREATE'));
    assert.equal(event.message.text, 'ndnnd');
    assert.equal(event.message.mentionsBot, false);
    assert.deepEqual(event.sender, { id: '1234', name: 'abc', isSelf: false });
    assert.deepEqual(event.conversation, { id: `dm:${DM_GUILD_ID}`, type: 'direct', name: null });
    assert.deepEqual(event.message.content, { guildId: DM_GUILD_ID, channelId: '100011' });
  });

  it('takes attachments as image, file, video and voice content; a message of only an image is an image', () => {
    const event = normalize(
      dispatch('C2C_MESSAGE_CREATE', {
        content: '',
        attachments: [
          { content_type: 'image/jpeg', filename: 'a.jpg', height: 300, width: 400, size: 1234, url: 'https://multimedia.nt.qq.com.cn/download?appid=1' },
          { content_type: 'file', filename: 'report.pdf', size: '2048', url: 'gchat.qpic.cn/some/file' },
          { content_type: 'video/mp4', url: '//video.qq.example/v.mp4' },
          { content_type: 'voice', url: 'https://voice.example/v.silk' },
        ],
      }),
    );
    assert.equal(event.message.type, 'image');
    assert.equal(event.message.text, null);
    assert.deepEqual(event.message.content.attachments, [
      { type: 'image', contentType: 'image/jpeg', url: 'https://multimedia.nt.qq.com.cn/download?appid=1', filename: 'a.jpg', width: 400, height: 300, size: 1234 },
      { type: 'file', contentType: 'file', url: 'https://gchat.qpic.cn/some/file', filename: 'report.pdf', width: null, height: null, size: 2048 },
      { type: 'video', contentType: 'video/mp4', url: 'https://video.qq.example/v.mp4', filename: null, width: null, height: null, size: null },
      { type: 'voice', contentType: 'voice', url: 'https://voice.example/v.silk', filename: null, width: null, height: null, size: null },
    ]);
    const captioned = normalize(dispatch('GROUP_AT_MESSAGE_CREATE', { content: ' look', attachments: [{ content_type: 'image/png', url: 'https://x.example/p.png' }] }));
    assert.equal(captioned.message.type, 'text');
    assert.equal(captioned.message.text, 'look');
  });

  it('takes the receive time when the timestamp is missing or unreadable', () => {
    assert.equal(normalize(dispatch('C2C_MESSAGE_CREATE', { timestamp: undefined })).message.createdAt, RECEIVED.toISOString());
    assert.equal(normalize(dispatch('C2C_MESSAGE_CREATE', { timestamp: 'yesterday' })).message.createdAt, RECEIVED.toISOString());
  });

  it('stores nothing for other dispatch types', () => {
    for (const t of ['GROUP_ADD_ROBOT', 'FRIEND_ADD', 'MESSAGE_CREATE', 'INTERACTION_CREATE', 'READY', undefined]) {
      assert.equal(normalizeQqDispatch({ op: 0, t, d: { id: 'x' } }, RECEIVED), null, String(t));
    }
  });

  it('refuses a message event without d, d.id or its conversation with 400', () => {
    assert.throws(() => normalizeQqDispatch({ op: 0, t: 'C2C_MESSAGE_CREATE' }, RECEIVED), failsWith('IMG_ERR_INBOUND_UNSUPPORTED'));
    assert.throws(() => normalizeQqDispatch(dispatch('C2C_MESSAGE_CREATE', { id: undefined }), RECEIVED), failsWith('IMG_ERR_INBOUND_UNSUPPORTED'));
    assert.throws(
      () => normalizeQqDispatch(dispatch('GROUP_AT_MESSAGE_CREATE', { group_openid: undefined }), RECEIVED),
      failsWith('IMG_ERR_INBOUND_UNSUPPORTED', (e) => assert.match(e.message, /group_openid/)),
    );
    assert.throws(() => normalizeQqDispatch(dispatch('C2C_MESSAGE_CREATE', { author: {} }), RECEIVED), failsWith('IMG_ERR_INBOUND_UNSUPPORTED'));
  });
});
