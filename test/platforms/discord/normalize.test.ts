import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeDiscordDispatch, withoutUserMentions } from '../../../src/platforms/discord/normalize.ts';
import { ALICE, BOB, BOT_USER_ID, DM_CHANNEL, GUILD_CHANNEL, GUILD_ID, messageData } from '../../helpers/fake-discord.ts';
import { failsWith } from '../../helpers/errors.ts';

const receivedAt = new Date('2026-11-23T09:00:05.000Z');

function created(overrides: Record<string, unknown> = {}, botUserId: string | null = BOT_USER_ID) {
  const event = normalizeDiscordDispatch({ t: 'MESSAGE_CREATE', s: 7, d: messageData(overrides) }, botUserId, receivedAt);
  assert.ok(event);
  return event;
}

describe('discord normalize', () => {
  it('reads a guild text message: channel as the conversation, sender by nickname, Discord time', () => {
    const event = created({ member: { nick: 'Ally' } });
    assert.equal(event.dedupKey, '1300000000000000001');
    assert.equal(event.type, 'message');
    assert.equal(event.message.platformId, '1300000000000000001');
    assert.equal(event.message.type, 'text');
    assert.equal(event.message.text, 'hello');
    assert.equal(event.message.createdAt, '2026-11-23T09:00:00.000Z');
    assert.deepEqual(event.sender, { id: ALICE.id, name: 'Ally', isSelf: false });
    assert.deepEqual(event.conversation, { id: GUILD_CHANNEL, type: 'group', name: null });
    assert.deepEqual(event.message.content, { discordType: 0, guildId: GUILD_ID });
    assert.deepEqual(event.raw, { t: 'MESSAGE_CREATE', s: 7, d: messageData({ member: { nick: 'Ally' } }) });
  });

  it('takes <@id> and <@!id> out of the text into mentions, the bot as mentionsBot; roles and channels stay', () => {
    const event = created({
      content: `<@${BOT_USER_ID}>  ship it <@!${BOB.id}>, ping <@&42> in <#43>`,
      mentions: [BOB, { id: BOT_USER_ID, username: 'imgate-bot', bot: true }],
    });
    assert.equal(event.message.text, 'ship it , ping <@&42> in <#43>');
    assert.deepEqual(event.message.mentions, [{ id: BOB.id, name: 'bob' }]);
    assert.equal(event.message.mentionsBot, true);
  });

  it('counts a reply that pings the bot (listed in mentions, no markup) as mentioning it, and @everyone as everyone', () => {
    const reply = created({ content: 'thanks', type: 19, mentions: [{ id: BOT_USER_ID, username: 'imgate-bot' }], message_reference: { message_id: '1299', channel_id: GUILD_CHANNEL } });
    assert.equal(reply.message.mentionsBot, true);
    assert.equal(reply.message.replyTo, '1299');
    const everyone = created({ content: '@everyone release at noon', mention_everyone: true });
    assert.deepEqual(everyone.message.mentions, [{ id: 'all', name: null }]);
    assert.equal(everyone.message.mentionsBot, false);
  });

  it("flags the bot's own messages as self, and marks other bots' as such in content", () => {
    assert.equal(created({ author: { id: BOT_USER_ID, username: 'imgate-bot', bot: true } }).sender.isSelf, true);
    const otherBot = created({ author: { id: '77', username: 'ci-bot', bot: true } });
    assert.equal(otherBot.sender.isSelf, false);
    assert.equal(otherBot.message.content.authorIsBot, true);
    assert.equal(created({}, null).sender.isSelf, false, 'before READY names the bot nothing is self');
  });

  it('reads a DM as a direct conversation', () => {
    const event = created({ channel_id: DM_CHANNEL, guild_id: undefined, member: undefined, author: BOB });
    assert.deepEqual(event.conversation, { id: DM_CHANNEL, type: 'direct', name: null });
    assert.deepEqual(event.sender, { id: BOB.id, name: 'bob', isSelf: false });
  });

  it('types messages without text by their attachment or sticker; empty content (no MESSAGE_CONTENT) is unknown', () => {
    const image = created({ content: '', attachments: [{ id: '5', filename: 'a.png', content_type: 'image/png', size: 10, url: 'https://cdn.discordapp.com/a.png' }] });
    assert.equal(image.message.type, 'image');
    assert.equal(image.message.text, null);
    assert.deepEqual(image.message.content.attachments, [{ id: '5', filename: 'a.png', contentType: 'image/png', size: 10, url: 'https://cdn.discordapp.com/a.png' }]);
    assert.equal(created({ content: '', attachments: [{ id: '6', filename: 'v.ogg', content_type: 'audio/ogg' }] }).message.type, 'voice');
    assert.equal(created({ content: '', attachments: [{ id: '7', filename: 'x.zip' }] }).message.type, 'file');
    assert.equal(created({ content: '', sticker_items: [{ id: '8', name: 'wave', format_type: 1 }] }).message.type, 'emoji');
    const empty = created({ content: '' });
    assert.equal(empty.message.type, 'unknown');
    assert.equal(empty.message.text, null);
  });

  it('makes system messages system events, and a member joining member.joined', () => {
    const pinned = created({ type: 6, content: '' });
    assert.equal(pinned.type, 'system');
    assert.equal(pinned.message.type, 'system');
    const joined = created({ type: 7, content: '' });
    assert.equal(joined.type, 'member.joined');
    assert.equal(joined.message.type, 'system');
  });

  it('reads MESSAGE_DELETE as message.recalled under a key that cannot clash with the message', () => {
    const event = normalizeDiscordDispatch({ t: 'MESSAGE_DELETE', s: 9, d: { id: '1300000000000000001', channel_id: GUILD_CHANNEL, guild_id: GUILD_ID } }, BOT_USER_ID, receivedAt);
    assert.ok(event);
    assert.equal(event.type, 'message.recalled');
    assert.equal(event.dedupKey, 'deleted:1300000000000000001');
    assert.notEqual(event.dedupKey, created().dedupKey);
    assert.equal(event.message.content.recalledPlatformId, '1300000000000000001');
    assert.equal(event.message.createdAt, receivedAt.toISOString());
    assert.deepEqual(event.conversation, { id: GUILD_CHANNEL, type: 'group', name: null });
  });

  it('makes no event of other dispatches, and refuses a message without an id', () => {
    assert.equal(normalizeDiscordDispatch({ t: 'TYPING_START', s: 3, d: { channel_id: GUILD_CHANNEL } }, BOT_USER_ID, receivedAt), null);
    assert.equal(normalizeDiscordDispatch({ t: 'GUILD_CREATE', s: 2, d: { id: GUILD_ID } }, BOT_USER_ID, receivedAt), null);
    assert.throws(() => created({ id: undefined }), failsWith('IMG_ERR_INBOUND_UNSUPPORTED'));
  });

  it('leaves no doubled or edge spaces where mentions were', () => {
    assert.equal(withoutUserMentions('<@1> hi <@2> there <@!3>'), 'hi there');
    assert.equal(withoutUserMentions('line one <@1>\n<@2> line two'), 'line one\nline two');
    assert.equal(withoutUserMentions('<@1>'), '');
  });
});
