import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeSlackEventCallback } from '../../../src/platforms/slack/normalize.ts';
import { APP_ID, BOT_USER, CHANNEL, DM, USER, eventCallback, messageEvent, nextTs } from './helpers.ts';

const normalize = (event: Record<string, unknown>, fields: Record<string, unknown> = {}) => normalizeSlackEventCallback(eventCallback(event, fields), new Date());

describe('normalizeSlackEventCallback', () => {
  it('makes a channel message a group text event keyed on channel and ts, with mentions out of the text', () => {
    const message = messageEvent({ text: `<@${BOT_USER}> ask <@U0BOB|bob> about &lt;this&gt; &amp; that <!here>` });
    const event = normalize(message)!;
    assert.equal(event.dedupKey, `${CHANNEL}:${message.ts}`);
    assert.equal(event.type, 'message');
    assert.equal(event.message.platformId, message.ts);
    assert.equal(event.message.type, 'text');
    assert.equal(event.message.text, 'ask about <this> & that <!here>');
    assert.deepEqual(event.message.mentions, [{ id: 'U0BOB', name: null }, { id: 'all', name: null }]);
    assert.equal(event.message.mentionsBot, true);
    assert.equal(event.message.replyTo, null);
    assert.deepEqual(event.conversation, { id: CHANNEL, type: 'group', name: null });
    assert.deepEqual(event.sender, { id: USER, name: null, isSelf: false });
    assert.equal(event.message.createdAt, new Date(Math.floor(Number(message.ts) * 1000)).toISOString());
  });

  it('makes the same event of a message and its app_mention, so that one of them is stored', () => {
    const ts = nextTs();
    const text = `<@${BOT_USER}> hi`;
    const asMessage = normalize({ type: 'message', user: USER, text, ts, channel: CHANNEL, channel_type: 'channel', event_ts: ts });
    const asMention = normalize({ type: 'app_mention', user: USER, text, ts, channel: CHANNEL, event_ts: ts });
    assert.equal(asMessage!.dedupKey, asMention!.dedupKey);
    assert.deepEqual({ ...asMessage!.message }, { ...asMention!.message });
  });

  it('takes a direct message as direct, and a thread reply as replying to its parent', () => {
    const parent = nextTs();
    const event = normalize(messageEvent({ channel: DM, channel_type: 'im', thread_ts: parent }))!;
    assert.equal(event.conversation.type, 'direct');
    assert.equal(event.message.replyTo, parent);
    assert.equal(event.message.content.threadTs, parent);
    const root = messageEvent();
    assert.equal(normalize({ ...root, thread_ts: root.ts })!.message.replyTo, null, 'a thread parent answers nothing');
  });

  it("flags the bot's own messages self, by its user id or its app id", () => {
    assert.equal(normalize(messageEvent({ user: BOT_USER, bot_id: 'B0OURS', app_id: APP_ID }))!.sender.isSelf, true);
    const legacy = normalize(messageEvent({ subtype: 'bot_message', user: undefined, bot_id: 'B0OURS', bot_profile: { app_id: APP_ID, name: 'imgate' } }))!;
    assert.deepEqual(legacy.sender, { id: 'B0OURS', name: 'imgate', isSelf: true });
    assert.equal(legacy.type, 'message');
    const other = normalize(messageEvent({ subtype: 'bot_message', user: undefined, bot_id: 'B0OTHER', bot_profile: { app_id: 'A0OTHER' } }))!;
    assert.equal(other.sender.isSelf, false);
    assert.equal(other.message.content.botId, 'B0OTHER');
  });

  it('makes an edit a system event naming the edited message, and ignores changes that are no edit', () => {
    const original = messageEvent({ text: 'helo' });
    const editTs = nextTs();
    const changed = {
      type: 'message',
      subtype: 'message_changed',
      hidden: true,
      channel: CHANNEL,
      ts: editTs,
      event_ts: editTs,
      message: { type: 'message', user: USER, text: 'hello', ts: original.ts, edited: { user: USER, ts: editTs } },
      previous_message: { type: 'message', user: USER, text: 'helo', ts: original.ts },
    };
    const event = normalize(changed)!;
    assert.equal(event.type, 'system');
    assert.equal(event.dedupKey, `edited:${CHANNEL}:${original.ts}:${editTs}`);
    assert.equal(event.message.text, 'hello');
    assert.deepEqual(event.message.content, { subtype: 'message_changed', editedPlatformId: original.ts, previousText: 'helo' });
    assert.equal(event.sender.id, USER);
    const unfurl = { ...changed, message: { type: 'message', user: USER, text: 'helo', ts: original.ts, attachments: [{}] } };
    assert.equal(normalize(unfurl), null);
  });

  it('makes a deletion message.recalled, naming the deleted message', () => {
    const deleted = nextTs();
    const ts = nextTs();
    const event = normalize({ type: 'message', subtype: 'message_deleted', hidden: true, channel: CHANNEL, ts, deleted_ts: deleted, event_ts: ts })!;
    assert.equal(event.type, 'message.recalled');
    assert.equal(event.dedupKey, `deleted:${CHANNEL}:${deleted}`);
    assert.equal(event.message.content.recalledPlatformId, deleted);
  });

  it('takes files, joins and other subtypes, and passes over what is no event', () => {
    const file = normalize(messageEvent({ subtype: 'file_share', text: '', files: [{ id: 'F1', name: 'a.png', mimetype: 'image/png', size: 3, url_private: 'https://files.slack.com/a.png' }] }))!;
    assert.equal(file.message.type, 'image');
    assert.deepEqual(file.message.content.files, [{ id: 'F1', name: 'a.png', mimetype: 'image/png', size: 3, urlPrivate: 'https://files.slack.com/a.png' }]);
    assert.equal(normalize(messageEvent({ subtype: 'channel_join', text: `<@${USER}> has joined the channel` }))!.type, 'member.joined');
    assert.equal(normalize(messageEvent({ subtype: 'channel_topic', text: 'set the topic' }))!.type, 'system');
    assert.equal(normalize(messageEvent({ subtype: 'message_replied' })), null);
    assert.equal(normalize({ type: 'reaction_added', user: USER }), null);
  });
});
